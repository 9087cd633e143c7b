import { describe, expect, it } from "vitest";
import { fuzzSeed, Random } from "./random.ts";
import { rollbackDuringFlood } from "./rollback-during-flood.ts";

// `npm run bench` prints the same run's time as `intake.rollbackDuringFloodMs`.
describe("a maintainer's /rollback in the middle of a flood of refused commands, Gantry as its own process", () => {
  it("moves the traffic back while the flood's refusals are still queued", { timeout: 300_000 }, async () => {
    const seed = fuzzSeed();
    const result = await rollbackDuringFlood(new Random(seed), { comments: 2_000, concurrency: 16 }, (line) => console.log(line));
    console.log(`seed ${seed}: /rollback delivered after ${result.floodBefore} refused comments; weights verified after ${result.rollbackMs.toFixed(0)} ms with ${result.queuedAtVerified} deliveries still queued; ${JSON.stringify(result.stages)}`);
    expect(result.answers, `seed ${seed}`).toEqual({ "202": 2_000 });
    // Acted on ahead of the queue: the refusals sent before it were not all worked through first.
    expect(result.queuedAtVerified, `seed ${seed}`).toBeGreaterThan(0);
  });
});
