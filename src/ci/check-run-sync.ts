import type { ProbotOctokit } from "probot";
import { createCheckRun, updateCheckRun } from "../notify/github-writes.ts";
import type { CiShard, CiStore } from "./ci-store.ts";
import { shardCheck, summaryCheck, type DesiredCheck } from "./check-output.ts";

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface CheckRunLinks {
  /** The shard attempt's log, for the check run's details link. */
  logUrl(shard: CiShard): string;
}

/**
 * Brings GitHub's check runs of one test run up to date with the store: creates those not yet on
 * GitHub, updates those whose state changed, in one pass (the outbox merges the changes recorded
 * meanwhile, so a shard that started and ended between two passes costs one write). Each shard needs
 * a create and a completion, the summary the same: 2n + 2 writes. The in-progress update of a shard
 * that waited for an executor is optional: it is sent only while the run's budget (2n + 4, more per
 * re-run) keeps room for every write still needed.
 */
export async function syncRunChecks(octokit: Octokit, store: CiStore, runId: string, links: CheckRunLinks): Promise<void> {
  const run = await store.run(runId);
  if (!run) return;
  const shards = await store.shards(runId);
  const flakyIds = shards.flatMap((shard) => (shard.result ? (JSON.parse(shard.result) as { flaky?: { file: string; name: string }[] }).flaky ?? [] : []).map((test) => `${test.file}::${test.name}`));
  const summary = summaryCheck(run, shards, { flakyCounts: await store.flakyCounts(run.repository_id, flakyIds) });
  const at = { owner: run.owner, repo: run.repo };
  // What GitHub holds of each check run (created, completion sent), to count the writes still needed.
  const onGitHub = new Map<string, { created: boolean; completedSent: boolean; completedNow: boolean }>([
    ["summary", { created: run.summary_check_run_id !== null, completedSent: isCompletedKey(run.summary_sent), completedNow: summary.state.status === "completed" }],
    ...shards.map((shard) => [shard.id, { created: shard.check_run_id !== null, completedSent: isCompletedKey(shard.check_sent), completedNow: shardCheck(shard).state.status === "completed" }] as const),
  ]);
  const stillNeeded = () =>
    [...onGitHub.values()].reduce((sum, check) => sum + (!check.created ? (check.completedNow ? 1 : 2) : check.completedSent ? 0 : 1), 0);
  let writes = run.github_writes;
  const write = async (id: string, completed: boolean, send: () => Promise<void>) => {
    await send();
    writes++;
    await store.countWrite(run.id);
    const check = onGitHub.get(id)!;
    check.created = true;
    if (completed) check.completedSent = true;
  };

  if (run.summary_check_run_id === null) {
    await write("summary", summary.state.status === "completed", async () => {
      const created = await createCheckRun(octokit, at, { name: summary.name, head_sha: run.sha, external_id: `run:${run.id}`, ...summary.state, ...actions(summary) }, summary.output, "in the shards' check runs");
      await store.saveSummaryCheck(run.id, created.id, summary.key);
    });
  }
  for (const shard of shards) {
    const desired = shardCheck(shard);
    const completed = desired.state.status === "completed";
    const details = shard.started_at === null ? {} : { details_url: links.logUrl(shard) };
    if (shard.check_run_id === null) {
      await write(shard.id, completed, async () => {
        const created = await createCheckRun(octokit, at, { name: desired.name, head_sha: run.sha, external_id: `shard:${shard.id}`, ...desired.state, ...details }, desired.output, "in the shard's log");
        await store.saveShardCheck(shard.id, shard.attempt, created.id, desired.key);
      });
      continue;
    }
    if (shard.check_sent === desired.key) continue;
    // An in-progress update is the one write a run can do without: only within the budget.
    if (!completed && writes + stillNeeded() + 1 > run.write_budget) continue;
    await write(shard.id, completed, async () => {
      await updateCheckRun(octokit, { ...at, check_run_id: Number(shard.check_run_id) }, { ...desired.state, ...details }, desired.output, "in the shard's log");
      await store.saveShardCheck(shard.id, shard.attempt, Number(shard.check_run_id), desired.key);
    });
  }
  const fresh = await store.run(run.id);
  if (fresh && fresh.summary_check_run_id !== null && fresh.summary_sent !== summary.key && summary.state.status === "completed") {
    await write("summary", true, async () => {
      await updateCheckRun(octokit, { ...at, check_run_id: Number(fresh.summary_check_run_id) }, { ...summary.state, ...actions(summary) }, summary.output, "in the shards' check runs");
      await store.saveSummaryCheck(run.id, Number(fresh.summary_check_run_id), summary.key);
    });
  }
}

function isCompletedKey(key: string | null): boolean {
  return key !== null && key.includes("completed");
}

function actions(check: DesiredCheck) {
  return check.actions ? { actions: check.actions } : {};
}
