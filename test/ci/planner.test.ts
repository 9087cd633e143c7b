import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { makespan, makespanLowerBound, planShards, shardCount, splitByCount, weighFiles } from "../../src/ci/planner.ts";
import { heavyTailedTimings, recordedTimings } from "../support/timing-sets.ts";

describe("the shard planner", () => {
  const sets = { "this project's recorded test timings": recordedTimings(), "500 heavy-tailed files": heavyTailedTimings() };

  for (const [name, files] of Object.entries(sets)) {
    it(`keeps the longest shard within 5% of the lower bound on ${name}`, () => {
      for (const shards of [1, 2, 3, 4, 8, 16, 32].filter((n) => n <= files.length)) {
        const plan = planShards(files, shards);
        const bound = makespanLowerBound(files, shards);
        expect(makespan(plan), `${shards} shards`).toBeLessThanOrEqual(bound * 1.05);
        // And it never does worse than cutting the file list by count, as `vitest --shard` does.
        expect(makespan(plan)).toBeLessThanOrEqual(makespan(splitByCount(files, shards)));
      }
    });
  }

  it("places every file in exactly one shard, and the same input always gives the same split", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 80 }), fc.integer({ min: 1, max: 12 }), (weights, shards) => {
        const files = weights.map((weightMs, i) => ({ path: `t/${i}.test.ts`, weightMs }));
        const plan = planShards(files, shards);
        expect(plan).toHaveLength(shards);
        expect(plan.flatMap((shard) => shard.files).sort()).toEqual(files.map((file) => file.path).sort());
        expect(planShards([...files].reverse(), shards)).toEqual(plan);
        // Greedy placement's guarantee: no shard exceeds an even share by more than one file.
        expect(makespan(plan)).toBeLessThanOrEqual(weights.reduce((sum, w) => sum + w, 0) / shards + Math.max(...weights) + 1e-6);
      }),
    );
  });

  it("weighs a file by the median of its history, and a new file by the median of the known ones unless told", () => {
    const history = new Map([
      ["a", [100, 900, 200]],
      ["b", [400]],
    ]);
    expect(weighFiles(["a", "b", "new"], history)).toEqual([
      { path: "a", weightMs: 200 },
      { path: "b", weightMs: 400 },
      { path: "new", weightMs: 300 },
    ]);
    expect(weighFiles(["new"], history, 5_000)).toEqual([{ path: "new", weightMs: 5_000 }]);
    expect(weighFiles(["x", "y"], new Map())).toEqual([
      { path: "x", weightMs: 1_000 },
      { path: "y", weightMs: 1_000 },
    ]);
  });

  it("picks the shard count: fixed (never more than files), or auto to reach the target wall time up to the maximum", () => {
    const files = Array.from({ length: 10 }, (_, i) => ({ path: `f${i}`, weightMs: 60_000 }));
    expect(shardCount(files, 4)).toBe(4);
    expect(shardCount(files.slice(0, 3), 4)).toBe(3);
    expect(shardCount(files, { auto: { targetWallTimeMs: 120_000, maxShards: 16 } })).toBe(5);
    expect(shardCount(files, { auto: { targetWallTimeMs: 60_000, maxShards: 4 } })).toBe(4);
    expect(shardCount([], { auto: { targetWallTimeMs: 60_000, maxShards: 4 } })).toBe(1);
  });
});
