// npm run bench: prints figures; compares each against a baseline measured in the same run.
import { benchWebhookAck } from "./webhook-ack.ts";
import { benchJudge } from "./judge.ts";
import { benchRollback } from "./rollback.ts";

await benchWebhookAck();
benchJudge();
await benchRollback();
process.exit(0);
