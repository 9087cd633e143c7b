import type { Logger, ProbotOctokit } from "probot";
import { shardResult } from "../ci/check-output.ts";
import type { CiService } from "../ci/ci-service.ts";
import type { CiShard, CiStore } from "../ci/ci-store.ts";
import type { AwsAccountIds } from "../config/aws-accounts.ts";
import { loadRepoConfig } from "../config/load-repo-config.ts";
import type { TestFailureNotice } from "./slack-outbox.ts";

type Octokit = InstanceType<typeof ProbotOctokit>;

/** Failing tests named in the message; the check run lists them all. */
const NAMED_TESTS = 5;

/**
 * When a default-branch commit's `gantry/test` fails, it is posted to the commit's Slack channel
 * (top-level `slack.channel` of its own config), once per commit. No channel, or a bad config: nothing.
 */
export function postTestFailures(options: {
  ci: CiService;
  ciStore: CiStore;
  post: (notice: TestFailureNotice) => Promise<void>;
  readerFor: (installationId: number) => Promise<Octokit>;
  githubWebUrl: string;
  awsAccountIds: AwsAccountIds;
  log: Logger;
}): void {
  const { ci, ciStore, log } = options;
  ci.onTestsFailed(async (event) => {
    const octokit = await options.readerFor(event.installationId);
    const loaded = await loadRepoConfig(octokit, { owner: event.owner, repo: event.repo, ref: event.sha }, { awsAccountIds: options.awsAccountIds });
    const channel = loaded.status === "valid" ? loaded.config.slack?.channel : undefined;
    if (!channel) return;
    const [run, shards] = await Promise.all([ciStore.run(event.runId), ciStore.shards(event.runId)]);
    const repoUrl = `${options.githubWebUrl.replace(/\/$/, "")}/${event.owner}/${event.repo}`;
    // The summary check run, once the outbox has created it; until then the commit's checks page.
    const checkRunUrl = run?.summary_check_run_id == null ? `${repoUrl}/commit/${event.sha}/checks` : `${repoUrl}/runs/${run.summary_check_run_id}`;
    await options.post({ repo: { owner: event.owner, repo: event.repo }, sha: event.sha, branch: event.branch, channel, summary: testFailureSummary(shards), checkRunUrl });
    log.info({ repo: `${event.owner}/${event.repo}`, sha: event.sha, channel }, "slack: failing gantry/test recorded for the channel");
  });
}

/** One short paragraph: how many shards failed, and the first failing tests (or why a shard ended without a report). */
export function testFailureSummary(shards: readonly CiShard[]): string {
  const failed = shards.filter((shard) => shard.status === "failed");
  const results = failed.map((shard) => ({ shard, result: shardResult(shard) }));
  const tests = results.flatMap(({ result }) => result?.failures.map((failure) => `${failure.file}: ${failure.name}`) ?? []);
  const errors = results.flatMap(({ shard, result }) => (result?.error === undefined ? [] : [`shard ${shard.shard_index}/${shard.shard_total}: ${result.error}`]));
  const lines = [`${failed.length} of ${shards.length} shard${shards.length === 1 ? "" : "s"} failed${tests.length > 0 ? `, ${tests.length} failing test${tests.length === 1 ? "" : "s"}` : ""}.`];
  lines.push(...tests.slice(0, NAMED_TESTS).map((test) => `• ${test}`));
  if (tests.length > NAMED_TESTS) lines.push(`• and ${tests.length - NAMED_TESTS} more`);
  lines.push(...errors.slice(0, NAMED_TESTS).map((error) => `• ${error}`));
  // Test names and errors come from the repository's code: at most 12 lines of 200, inside the outbox's 3,000 characters.
  return lines.map((line) => (line.length > 200 ? `${line.slice(0, 199)}…` : line)).join("\n");
}
