// npm run bench: prints figures; compares each against a baseline measured in the same run.
import { benchCi } from "./ci.ts";
import { benchFuzz } from "./fuzz.ts";
import { benchAwsLimits } from "./aws-limits.ts";
import { benchIntake } from "./intake.ts";
import { benchJudge } from "./judge.ts";
import { benchGithubWrites } from "./github-writes.ts";
import { benchRollback } from "./rollback.ts";
import { benchRollbackDuringFlood } from "./rollback-during-flood.ts";
import { benchConfigCheck } from "./config-check.ts";
import { benchDeployTiming } from "./deploy-timing.ts";
import { benchResultsPath } from "./results.ts";

await benchIntake();
benchJudge();
await benchRollback();
await benchConfigCheck();
await benchDeployTiming();
await benchFuzz();
await benchRollbackDuringFlood();
await benchAwsLimits();
await benchGithubWrites();
await benchCi();
console.log(`\nTracked figures written to ${benchResultsPath()}`);
process.exit(0);
