import { describe, expect, it } from "vitest";
import { runFuzz, SHORT_SIZES } from "./fuzz-run.ts";
import { fuzzSeed } from "./random.ts";

// The short run of the fuzz suite (`npm run fuzz` runs the full sizes). A failure prints its seed:
// FUZZ_SEED=<seed> npx vitest run test/fuzz/fuzz.test.ts replays the same inputs.
describe("Gantry as its own process under hostile input (short fuzz run)", () => {
  it("stays up, answers /healthz, stays small, and lets nobody without write access deploy", { timeout: 180_000 }, async () => {
    const seed = fuzzSeed();
    const report = await runFuzz(seed, SHORT_SIZES, (line) => console.log(line));
    console.log(
      `fuzz: seed ${seed}: max RSS ${report.vital.maxRssMb.toFixed(0)} MB, after ${report.rssAfterMb.toFixed(0)} MB; ` +
        `/healthz misses ${report.vital.healthMisses}/${report.vital.healthSamples} (longest silence ${report.vital.longestSilenceMs} ms); ` +
        `refused ${report.comments.perSecondRefused.toFixed(1)}/s; inbox ${JSON.stringify(report.inbox)}; http ${JSON.stringify(report.brokenHttp.answers)}`,
    );
    expect(report.failures, `seed ${seed}`).toEqual([]);
    // The run did what it says: every kind reached Gantry, and the flood was answered sparingly.
    expect(report.malformed.answers["202"], `seed ${seed}`).toBeGreaterThan(0);
    expect(Object.keys(report.configs.kinds)).toHaveLength(SHORT_SIZES.badConfigs);
    expect(report.comments.botReplies, `seed ${seed}`).toBeLessThan(SHORT_SIZES.refusedComments / 4);
  });
});
