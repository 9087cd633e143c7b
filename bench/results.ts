// Figures an issue names go into bench-results.json (or $BENCH_OUT), merged with what other benches wrote.
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export function recordResults(figures: Record<string, number>): void {
  const path = process.env.BENCH_OUT ?? "bench-results.json";
  const before = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>) : {};
  writeFileSync(path, `${JSON.stringify({ ...before, ...figures }, null, 2)}\n`);
}
