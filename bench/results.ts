// Tracked figures, written to bench-results.json (or $BENCH_OUT) under fixed key names.
// Each bench merges its own keys into the file, so figures from other benches, or an earlier run of
// a bench skipped this time, stay.
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export function benchResultsPath(): string {
  return process.env.BENCH_OUT ?? "bench-results.json";
}

export function recordBenchResults(results: Record<string, number>): void {
  const path = benchResultsPath();
  const previous = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>) : {};
  writeFileSync(path, `${JSON.stringify({ ...previous, ...results }, null, 2)}\n`);
}
