import { describe, expect, it } from "vitest";
import type { CiShard } from "../../src/ci/ci-store.ts";
import { testFailureSummary } from "../../src/slack/post-test-failures.ts";

const shard = (index: number, status: CiShard["status"], result: object | null): CiShard => ({
  id: `shard-${index}`,
  run_id: "run",
  shard_index: index,
  shard_total: 3,
  files: "[]",
  status,
  attempt: 1,
  priority: 2,
  queued_at: 0,
  executor: "local",
  handle: null,
  owner: null,
  started_at: null,
  finished_at: null,
  result: result === null ? null : JSON.stringify(result),
  check_run_id: null,
  check_sent: null,
});
const report = (failures: { file: string; name: string }[], error?: string) => ({
  passed: 1,
  skipped: 0,
  failures: failures.map((failure) => ({ ...failure, message: "boom" })),
  flaky: [],
  files: [],
  durationMs: 1,
  exitCode: 1,
  ...(error === undefined ? {} : { error }),
});

describe("the Slack summary of a failing gantry/test", () => {
  it("counts failed shards and tests, names the first five, and says why a shard ended without a report", () => {
    const failures = Array.from({ length: 7 }, (_, i) => ({ file: "test/a.test.mjs", name: `case ${i}` }));
    const summary = testFailureSummary([shard(1, "failed", report(failures)), shard(2, "passed", report([])), shard(3, "failed", report([], "timed out after 120 s"))]);
    expect(summary.split("\n")).toEqual([
      "2 of 3 shards failed, 7 failing tests.",
      ...failures.slice(0, 5).map((failure) => `• test/a.test.mjs: ${failure.name}`),
      "• and 2 more",
      "• shard 3/3: timed out after 120 s",
    ]);
  });

  it("keeps what the repository's tests wrote short: a huge test name cannot fill the message", () => {
    const long = "x".repeat(2000);
    const failures = Array.from({ length: 20 }, () => ({ file: "test/a.test.mjs", name: long }));
    const summary = testFailureSummary([1, 2, 3].map((index) => shard(index, "failed", report(failures, long))));
    expect(summary.length).toBeLessThanOrEqual(3000);
    expect(summary.split("\n").every((line) => line.length <= 200)).toBe(true);
    expect(summary).toContain("• and 55 more");
  });
});
