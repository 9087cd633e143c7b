// npm run bench: prints figures; compares each against a baseline measured in the same run.
import { benchWebhookAck } from "./webhook-ack.ts";
import { benchJudge } from "./judge.ts";
import { benchGithubWrites } from "./github-writes.ts";
import { benchRollback } from "./rollback.ts";
import { benchResultsPath } from "./results.ts";

await benchWebhookAck();
benchJudge();
await benchRollback();
await benchGithubWrites();
console.log(`\nTracked figures written to ${benchResultsPath()}`);
process.exit(0);
