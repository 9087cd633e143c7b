// npm run bench: prints figures; compares each against a baseline measured in the same run.
import { benchWebhookAck } from "./webhook-ack.ts";

await benchWebhookAck();
process.exit(0);
