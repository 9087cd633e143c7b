// The fuzz suite at full size, as a bench: Gantry's memory after hostile input beside its idle
// memory, and refused commands worked through per second beside the rate they were sent at.
import { FULL_SIZES, runFuzz, type FuzzReport } from "../test/fuzz/fuzz-run.ts";
import { fuzzSeed } from "../test/fuzz/random.ts";
import { recordBenchResults } from "./results.ts";

export async function benchFuzz(): Promise<FuzzReport> {
  console.log("\n## Hostile input (fuzz suite, full size)");
  const report = await runFuzz(fuzzSeed(), FULL_SIZES, (line) => console.log(line));
  const { vital, comments } = report;
  console.log(`resident memory: idle ${report.rssIdleMb.toFixed(0)} MB, max ${vital.maxRssMb.toFixed(0)} MB, after ${report.rssAfterMb.toFixed(0)} MB`);
  console.log(`refused commands: ${comments.perSecondRefused.toFixed(1)}/s worked through (delivery to done), sent at ${FULL_SIZES.commentsPerSecond}/s, p99 from delivery to done ${comments.p99MsDeliveryToDone} ms (goal ≤ 5000); ${comments.botReplies} replies to ${comments.sent} comments`);
  console.log(`/healthz: ${vital.healthMisses} of ${vital.healthSamples} samples missed 1 s; longest silence ${vital.longestSilenceMs} ms`);
  for (const phase of report.phases) {
    console.log(`  ${phase.name}: max RSS ${phase.maxRssMb.toFixed(0)} MB, /healthz misses ${phase.healthMisses}, longest silence ${phase.longestSilenceMs} ms`);
  }
  console.log(`malformed deliveries answered: ${JSON.stringify(report.malformed.answers)}; inbox ${JSON.stringify(report.inbox)}`);
  console.log(`broken HTTP: ${JSON.stringify(report.brokenHttp.answers)}`);
  console.log(`bad configs: ${JSON.stringify(report.configs.kinds)}; gantry/config check runs ${report.configs.configChecks}`);
  if (report.log.errorMessages.size > 0) console.log(`error lines in the log: ${JSON.stringify(Object.fromEntries(report.log.errorMessages))}`);
  for (const failure of report.failures) console.log(`FAILED (seed ${report.seed}): ${failure}`);
  recordBenchResults({
    "memory.rssAfterFuzzMb": Math.round(report.rssAfterMb),
    "intake.commentsPerSecondRefused": Math.round(comments.perSecondRefused * 100) / 100,
    "intake.refusedP99MsDeliveryToDone": comments.p99MsDeliveryToDone,
  });
  return report;
}
