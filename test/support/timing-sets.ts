// Timing sets for the shard planner's tests and bench: this project's own test durations as
// recorded (bench/fixtures/vitest-timings.json), and a seeded heavy-tailed set.
import { readFileSync } from "node:fs";
import type { WeighedFile } from "../../src/ci/planner.ts";
import { mulberry32 } from "./simulate-traffic.ts";

export function recordedTimings(): WeighedFile[] {
  const fixture = JSON.parse(readFileSync(new URL("../../bench/fixtures/vitest-timings.json", import.meta.url), "utf8")) as { files: Record<string, number> };
  return Object.entries(fixture.files).map(([path, weightMs]) => ({ path, weightMs }));
}

/** `count` files whose durations follow a Pareto law (shape 1.5, from 200 ms): most short, a few very long. */
export function heavyTailedTimings(count = 500, seed = 20261201): WeighedFile[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, (_, i) => ({ path: `test/file-${String(i).padStart(3, "0")}.test.ts`, weightMs: Math.round(200 * (1 - random()) ** (-1 / 1.5)) }));
}
