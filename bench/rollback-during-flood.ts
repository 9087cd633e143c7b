// A maintainer's /rollback in the middle of 2,000 refused comments, Gantry as its own process
// (test/fuzz/rollback-during-flood.ts): the time from the /rollback's delivery to the production
// listener verified back on the old colour, beside how many deliveries were still queued then.
import { fuzzSeed, Random } from "../test/fuzz/random.ts";
import { rollbackDuringFlood } from "../test/fuzz/rollback-during-flood.ts";
import { recordBenchResults } from "./results.ts";

export async function benchRollbackDuringFlood(): Promise<void> {
  console.log("\n## A /rollback during a flood of refused commands");
  const seed = fuzzSeed();
  const result = await rollbackDuringFlood(new Random(seed), { comments: 2_000, concurrency: 16 }, (line) => console.log(line));
  const { claimedMs, decidedMs, restoredMs } = result.stages;
  console.log(`seed ${seed}: /rollback sent after ${result.floodBefore} of 2,000 refused comments were acknowledged`);
  console.log(`delivery to verified weights: ${result.rollbackMs.toFixed(0)} ms, with ${result.queuedAtVerified} deliveries still queued`);
  console.log(`in Gantry's store, from the delivery stored: handler started ${claimedMs} ms, rollback decided ${decidedMs} ms, weights restored ${restoredMs} ms`);
  recordBenchResults({ "intake.rollbackDuringFloodMs": Math.round(result.rollbackMs) });
}
