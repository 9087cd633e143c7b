// npm run bench: prints figures; compares each against a baseline measured in the same run.
import { benchWebhookAck } from "./webhook-ack.ts";
import { benchJudge } from "./judge.ts";

await benchWebhookAck();
benchJudge();
process.exit(0);
