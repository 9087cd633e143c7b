import type { CheckRunAnnotation, CheckRunOutput } from "../notify/github-limits.ts";
import type { CheckRunAction } from "../notify/github-writes.ts";
import type { CheckRunState } from "../notify/github-states.ts";
import type { CiRun, CiShard } from "./ci-store.ts";
import { storedResultSchema, type StoredResult } from "./shard-report.ts";

const SUMMARY_CHECK_NAME = "gantry/test";
export const RERUN_FAILED_ACTION = "rerun-failed";

export interface DesiredCheck {
  name: string;
  state: CheckRunState;
  output: CheckRunOutput;
  actions?: CheckRunAction[];
  /** Changes when the check run must be written again. */
  key: string;
}

function shardCheckName(shard: Pick<CiShard, "shard_index" | "shard_total">): string {
  return `${SUMMARY_CHECK_NAME} (${shard.shard_index}/${shard.shard_total})`;
}

export function shardResult(shard: CiShard): StoredResult | undefined {
  return shard.result === null ? undefined : storedResultSchema.parse(JSON.parse(shard.result));
}

function shardState(shard: CiShard): CheckRunState {
  switch (shard.status) {
    case "queued":
      return { status: "queued" };
    case "running":
      return { status: "in_progress" };
    case "passed":
      return { status: "completed", conclusion: "success" };
    case "failed":
      return { status: "completed", conclusion: "failure" };
    case "cancelled":
      return { status: "completed", conclusion: "cancelled" };
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;
/** GitHub shows at most 50 annotations a request; the rest are in the text, so a run's writes stay two per shard. */
const ANNOTATIONS = 50;

/** A shard's check run: its files, duration, and each failure as an annotation at its line. */
export function shardCheck(shard: CiShard): DesiredCheck {
  const state = shardState(shard);
  const files = JSON.parse(shard.files) as string[];
  const result = shardResult(shard);
  const fileList = files.map((file) => `- ${code(file)}`).join("\n");
  const title =
    shard.status === "queued"
      ? "Waiting for an executor"
      : shard.status === "running"
        ? "Running"
        : shard.status === "cancelled"
          ? "Cancelled"
          : result?.error
            ? result.error
            : `${result?.failures.length ?? 0} failed, ${result?.passed ?? 0} passed in ${seconds(result?.durationMs ?? 0)}`;
  const lines = [`${files.length} test file${files.length === 1 ? "" : "s"}, attempt ${shard.attempt}.`];
  if (result) {
    lines.push("", `Duration ${seconds(result.durationMs)}; exit code ${result.exitCode}.`);
    if (result.failures.length > 0) lines.push("", "**Failures**", ...result.failures.map((f) => `- ${code(f.file)}${f.line ? `:${f.line}` : ""} ${code(f.name)}: ${f.message.split("\n")[0]}`));
    if (result.flaky.length > 0) lines.push("", "**Flaky** (failed, then passed)", ...result.flaky.map((f) => `- ${code(f.file)} ${code(f.name)}`));
    if (result.quarantined.length > 0) lines.push("", "**Quarantined** (failed; does not block)", ...result.quarantined.map((f) => `- ${code(f.file)} ${code(f.name)}`));
  }
  const annotations: CheckRunAnnotation[] = (result?.failures ?? []).slice(0, ANNOTATIONS).map((failure) => ({
    path: failure.file || ".",
    start_line: failure.line ?? 1,
    end_line: failure.line ?? 1,
    annotation_level: "failure",
    title: failure.name,
    message: failure.message,
  }));
  return {
    name: shardCheckName(shard),
    state,
    output: { title, summary: lines.join("\n"), text: `**Files**\n${fileList}`, ...(annotations.length > 0 ? { annotations } : {}) },
    key: `${shard.attempt}:${state.status}:${"conclusion" in state ? state.conclusion : ""}`,
  };
}

/** Flaky counts per test id (`file::name`) over time, and whether the run is on the default branch. */
export interface SummaryContext {
  flakyCounts: ReadonlyMap<string, number>;
}

/** The `gantry/test` summary: what failed, the slow files, flaky tests, and how even the shards were. */
export function summaryCheck(run: CiRun, shards: readonly CiShard[], context: SummaryContext): DesiredCheck {
  const results = shards.map((shard) => ({ shard, result: shardResult(shard) }));
  const failedShards = shards.filter((shard) => shard.status === "failed");
  const state: CheckRunState =
    run.status === "running"
      ? { status: "in_progress" }
      : { status: "completed", conclusion: run.status === "cancelled" ? "cancelled" : failedShards.length > 0 ? "failure" : "success" };
  const failures = results.flatMap(({ shard, result }) => (result?.failures ?? []).map((failure) => ({ shard, failure })));
  const errors = results.filter(({ result }) => result?.error).map(({ shard, result }) => `- ${shardCheckName(shard)}: ${result!.error}`);
  const flaky = results.flatMap(({ result }) => result?.flaky ?? []);
  const quarantined = results.flatMap(({ result }) => result?.quarantined ?? []);
  const durations = results.filter(({ result }) => result).map(({ result }) => result!.durationMs);
  const files = results.flatMap(({ result }) => result?.files ?? []).sort((a, b) => b.durationMs - a.durationMs);
  const done = shards.filter((shard) => shard.status !== "queued" && shard.status !== "running").length;

  const lines = [`${shards.length} shard${shards.length === 1 ? "" : "s"}: ${done} ended, ${failedShards.length} failed.`];
  if (failures.length > 0) {
    lines.push("", "**Failures**", ...failures.slice(0, 100).map(({ shard, failure }) => `- ${code(failure.file)}${failure.line ? `:${failure.line}` : ""} ${code(failure.name)} (${shard.shard_index}/${shard.shard_total}): ${failure.message.split("\n")[0]}`));
    if (failures.length > 100) lines.push(`- and ${failures.length - 100} more in the shards' check runs`);
  }
  if (errors.length > 0) lines.push("", "**Shards that could not run their tests**", ...errors);
  if (flaky.length > 0) {
    lines.push("", "**Flaky tests** (failed, then passed on this commit; commits flaky so far)", ...flaky.map((test) => `- ${code(test.file)} ${code(test.name)}: ${context.flakyCounts.get(`${test.file}::${test.name}`) ?? 1}`));
  }
  if (quarantined.length > 0) lines.push("", "**Quarantined tests** (failed; do not block)", ...quarantined.map((test) => `- ${code(test.file)} ${code(test.name)}`));
  if (files.length > 0) lines.push("", "**Slowest files**", ...files.slice(0, 5).map((file) => `- ${code(file.path)}: ${seconds(file.durationMs)}`));
  if (durations.length > 1) {
    const mean = durations.reduce((sum, ms) => sum + ms, 0) / durations.length;
    const longest = Math.max(...durations);
    lines.push("", `**Imbalance**: the longest shard took ${seconds(longest)}, ${mean > 0 ? (longest / mean).toFixed(2) : "1.00"}× the mean (${seconds(mean)}).`);
  }
  const title =
    state.status !== "completed"
      ? `Running ${shards.length} shard${shards.length === 1 ? "" : "s"}`
      : state.conclusion === "success"
        ? `All ${shards.length} shard${shards.length === 1 ? "" : "s"} passed`
        : state.conclusion === "cancelled"
          ? "Cancelled by a newer push"
          : `${failedShards.length} of ${shards.length} shards failed`;
  const actions = state.status === "completed" && failedShards.length > 0 ? [{ label: "Re-run failed shards", description: "Runs them again with the same files", identifier: RERUN_FAILED_ACTION }] : undefined;
  return {
    name: SUMMARY_CHECK_NAME,
    state,
    output: { title, summary: lines.join("\n") },
    ...(actions ? { actions } : {}),
    key: `${state.status}:${"conclusion" in state ? state.conclusion : ""}`,
  };
}
