import type { Logger } from "probot";
import { PRIORITY, type GitHubOutbox } from "../notify/outbox-store.ts";
import type { CallbackTokens } from "./callback-token.ts";
import { DEFAULT_BRANCH_PRIORITY, type CiShard, type CiStore, type NewRun } from "./ci-store.ts";
import type { Executor } from "./executors/executor.ts";
import { parseRunSettings, shardJob } from "./run-settings.ts";
import type { ShardJob, ShardReport, StoredResult } from "./shard-report.ts";

/** What the image step needs to know when a default-branch commit's `gantry/test` has passed. */
export interface TestsPassed {
  installationId: number;
  owner: string;
  repo: string;
  repositoryId: number;
  sha: string;
  branch: string;
}

/** A default-branch run whose `gantry/test` failed; its shards' reports are in the CI store under `runId`. */
export interface TestsFailed extends TestsPassed {
  runId: string;
}

export interface CiServiceOptions {
  store: CiStore;
  executor: Executor;
  tokens: CallbackTokens;
  outbox: GitHubOutbox;
  /** Tells the outbox drain there is something to send. */
  wakeDrain: () => void;
  log: Logger;
  instanceId: string;
  /** Gantry's base URL as runners reach it (known once the server listens). */
  callbackUrl: () => string;
  /** How often running shards are looked at (ended without a report, past their timeout). */
  watchMs?: number;
  /** Shard logs are deleted after this long. */
  logRetentionMs?: number;
  now?: () => number;
}

/** A runner that ends without reporting is given this long for its report to land. */
const REPORT_GRACE_MS = 5_000;
/** A replica whose heartbeat is older than this is dead (as for deployments' leases): its local shards are queued again. */
const REPLICA_STALE_MS = 15_000;
/** Tokens outlive the shard's timeout by this much, for the report of a shard that ends at its limit. */
const TOKEN_MARGIN_MS = 10 * 60_000;

/**
 * Test runs from push to conclusion: queues a run's shards, hands them to the executor as slots free
 * up (default-branch shards first), takes the runners' reports, watches for shards that end without
 * one or run past their timeout, and records every change for the check-run outbox.
 */
export class CiService {
  readonly #options: CiServiceOptions;
  readonly #passed: Array<(event: TestsPassed) => void | Promise<void>> = [];
  readonly #failed: Array<(event: TestsFailed) => void | Promise<void>> = [];
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #pass: Promise<void> = Promise.resolve();
  #queued = false;
  #lastPrune = 0;

  constructor(options: CiServiceOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Called (once per run) when a default-branch run's `gantry/test` passes: the image step builds from here. */
  onTestsPassed(listener: (event: TestsPassed) => void | Promise<void>): void {
    this.#passed.push(listener);
  }

  /** Called (once per run, and again when a re-run of it fails) when a default-branch run's `gantry/test` fails; a cancelled run is not a failure. */
  onTestsFailed(listener: (event: TestsFailed) => void | Promise<void>): void {
    this.#failed.push(listener);
  }

  start(): void {
    this.#running = true;
    this.wake();
  }

  /** Stops dispatching; shards this replica runs itself go back to the queue for another replica (or this one's next start). */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#pass;
    const { store, executor, instanceId } = this.#options;
    if (!executor.perReplica) return;
    for (const shard of await store.running(executor.name, instanceId)) {
      if (await store.requeue(shard.id, shard.attempt)) await this.#changed(shard.run_id, await this.#installationOf(shard.run_id));
    }
  }

  async #installationOf(runId: string): Promise<number> {
    return Number((await this.#options.store.run(runId))?.installation_id ?? 0);
  }

  /** Dispatches and watches now: one pass at a time, and a wake during a pass queues one more. */
  wake(): void {
    if (!this.#running || this.#queued) return;
    this.#queued = true;
    clearTimeout(this.#timer);
    this.#pass = this.#pass.then(async () => {
      this.#queued = false;
      try {
        await this.#dispatch();
        await this.#watch();
      } catch (error) {
        this.#options.log.error({ err: error }, "ci: a dispatch pass failed; retrying on the next one");
      }
      if (this.#running && !this.#queued) {
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => this.wake(), this.#options.watchMs ?? 1_000);
      }
    });
  }

  /** Starts a run; older unfinished runs of the branch are cancelled (their shards stopped). */
  async startRun(run: NewRun): Promise<string> {
    const { store } = this.#options;
    const runId = await store.createRun(run);
    this.#options.log.info({ run: runId, repo: `${run.owner}/${run.repo}`, sha: run.sha, shards: run.shards.length }, "ci: run queued");
    for (const older of await store.supersededRuns(run.repositoryId, run.branch, runId)) await this.cancelRun(older);
    await this.#changed(runId, run.installationId);
    this.wake();
    return runId;
  }

  async cancelRun(runId: string): Promise<void> {
    const run = await this.#options.store.run(runId);
    if (!run) return;
    const stopped = await this.#options.store.cancelRun(runId);
    await this.#changed(runId, run.installation_id);
    for (const shard of stopped) await this.#stop(shard);
  }

  /** `check_run.rerequested` of a shard: the same files again. */
  async rerunShard(repositoryId: number, checkRunId: number): Promise<boolean> {
    const shard = await this.#options.store.shardByCheckRun(repositoryId, checkRunId);
    return shard ? this.#rerun(shard.run_id, [shard.id]) : false;
  }

  /** `check_suite.rerequested`: every shard of the commit's latest run. */
  async rerunAll(repositoryId: number, sha: string): Promise<boolean> {
    const run = await this.#options.store.latestRunForSha(repositoryId, sha);
    if (!run) return false;
    return this.#rerun(run.id, (await this.#options.store.shards(run.id)).map((shard) => shard.id));
  }

  /** The summary's "Re-run failed shards" button. */
  async rerunFailed(repositoryId: number, summaryCheckRunId: number): Promise<boolean> {
    const run = await this.#options.store.runBySummary(repositoryId, summaryCheckRunId);
    if (!run) return false;
    const failed = (await this.#options.store.shards(run.id)).filter((shard) => shard.status === "failed");
    return this.#rerun(run.id, failed.map((shard) => shard.id));
  }

  async #rerun(runId: string, shardIds: string[]): Promise<boolean> {
    const run = await this.#options.store.run(runId);
    if (!run || run.status === "cancelled") return false;
    const count = await this.#options.store.rerun(runId, shardIds);
    if (count === 0) return false;
    this.#options.log.info({ run: runId, shards: count }, "ci: shards queued again");
    await this.#changed(runId, run.installation_id);
    this.wake();
    return true;
  }

  /** The job of a running shard attempt, for its runner; undefined when it is not running (cancelled, ended). */
  async job(shardId: string, attempt: number): Promise<{ job: ShardJob; run: { owner: string; repo: string; sha: string; installationId: number } } | undefined> {
    const shard = await this.#options.store.shard(shardId);
    if (!shard || shard.attempt !== attempt || shard.status !== "running") return undefined;
    const run = await this.#options.store.run(shard.run_id);
    if (!run) return undefined;
    return {
      job: shardJob(parseRunSettings(run.settings), JSON.parse(shard.files) as string[]),
      run: { owner: run.owner, repo: run.repo, sha: run.sha, installationId: Number(run.installation_id) },
    };
  }

  /**
   * A runner's report. Recorded once for the running attempt it was signed for: a replay, a report
   * for an earlier attempt or for a cancelled shard changes nothing (false).
   */
  async acceptReport(shardId: string, attempt: number, report: ShardReport): Promise<boolean> {
    const { store } = this.#options;
    const shard = await store.shard(shardId);
    if (!shard || shard.attempt !== attempt || shard.status !== "running") return false;
    const run = await store.run(shard.run_id);
    if (!run) return false;
    const settings = parseRunSettings(run.settings);
    const files = new Set(JSON.parse(shard.files) as string[]);
    // Only the shard's own files are timed: a report cannot weigh another file's history.
    const ownFiles = report.files.filter((file) => files.has(file.path));
    const quarantinedIds = await this.#quarantined(Number(run.repository_id), report, settings.quarantineAfter);
    const stored: StoredResult = {
      ...report,
      files: ownFiles,
      failures: report.failures.filter((failure) => !quarantinedIds.has(`${failure.file}::${failure.name}`)),
      quarantined: report.failures.filter((failure) => quarantinedIds.has(`${failure.file}::${failure.name}`)),
    };
    const passed = stored.failures.length === 0 && stored.error === undefined;
    if (!(await store.completeShard(shardId, attempt, passed ? "passed" : "failed", JSON.stringify(stored)))) return false;
    if (run.default_branch === 1) await store.recordTimings(Number(run.repository_id), ownFiles);
    if (stored.flaky.length > 0) await store.recordFlaky(Number(run.repository_id), run.sha, stored.flaky.map((test) => `${test.file}::${test.name}`));
    await this.#finished(shard);
    return true;
  }

  async #quarantined(repositoryId: number, report: ShardReport, threshold: number | undefined): Promise<Set<string>> {
    if (threshold === undefined || report.failures.length === 0) return new Set();
    const counts = await this.#options.store.flakyCounts(repositoryId, report.failures.map((failure) => `${failure.file}::${failure.name}`));
    return new Set([...counts].filter(([, count]) => count >= threshold).map(([id]) => id));
  }

  /** After a shard ended: completes the run when it was the last, and says so. */
  async #finished(shard: CiShard): Promise<void> {
    const { store } = this.#options;
    const run = await store.run(shard.run_id);
    if (!run) return;
    const completed = await store.finishRunIfDone(run.id, (shards) => (shards.some((s) => s.status === "failed") ? "failure" : "success"));
    await this.#changed(run.id, run.installation_id);
    this.wake();
    if (completed?.default_branch !== 1) return;
    const event: TestsPassed = {
      installationId: Number(completed.installation_id),
      owner: completed.owner,
      repo: completed.repo,
      repositoryId: Number(completed.repository_id),
      sha: completed.sha,
      branch: completed.branch,
    };
    if (completed.conclusion === "success") await this.#tell(this.#passed, event, "tests-passed");
    if (completed.conclusion === "failure") await this.#tell(this.#failed, { ...event, runId: completed.id }, "tests-failed");
  }

  /** A listener that fails is logged: it never fails the shard's report nor stops the other listeners. */
  async #tell<E extends TestsPassed>(listeners: Array<(event: E) => void | Promise<void>>, event: E, name: string): Promise<void> {
    for (const listener of listeners) {
      await Promise.resolve()
        .then(() => listener(event))
        .catch((error: unknown) => this.#options.log.error({ err: error, sha: event.sha }, `ci: a ${name} listener failed`));
    }
  }

  async #dispatch(): Promise<void> {
    const { store, executor, instanceId, tokens } = this.#options;
    const owner = executor.perReplica ? instanceId : undefined;
    let free = executor.slots - (await store.countRunning(executor.name, owner));
    while (free > 0 && this.#running) {
      const shard = await store.claimQueued(instanceId, executor.name);
      if (!shard) return;
      free--;
      const run = await store.run(shard.run_id);
      const timeoutMs = run ? parseRunSettings(run.settings).timeoutMs : 0;
      try {
        const token = tokens.sign({ shardId: shard.id, attempt: shard.attempt, expiresAt: this.#now() + timeoutMs + TOKEN_MARGIN_MS });
        const handle = await executor.start({ shardId: shard.id, attempt: shard.attempt, token, callbackUrl: this.#options.callbackUrl() });
        await store.setHandle(shard.id, shard.attempt, handle);
        this.#options.log.info({ shard: shard.id, attempt: shard.attempt, handle, priority: shard.priority === DEFAULT_BRANCH_PRIORITY ? "default branch" : "branch" }, "ci: shard started");
      } catch (error) {
        this.#options.log.error({ err: error, shard: shard.id }, "ci: the executor could not start a shard");
        await this.#fail(shard, `the ${executor.name} executor could not start the shard: ${error instanceof Error ? error.message.slice(0, 300) : "unknown error"}`);
        continue;
      }
      if (run) await this.#changed(run.id, run.installation_id);
    }
  }

  /**
   * Shards past their timeout fail (whichever replica started them); this replica's shards that
   * ended without a report fail with the reason; a dead replica's shards go back to the queue.
   */
  async #watch(): Promise<void> {
    const { store, executor, instanceId } = this.#options;
    const now = this.#now();
    for (const shard of await store.running(executor.name)) {
      const run = await store.run(shard.run_id);
      const timeoutMs = run ? parseRunSettings(run.settings).timeoutMs : 0;
      if (shard.started_at !== null && now > Number(shard.started_at) + timeoutMs) {
        if (!executor.perReplica || shard.owner === instanceId) await this.#stop(shard);
        await this.#fail(shard, `timed out after ${Math.round(timeoutMs / 1000)} s`);
        continue;
      }
      if (executor.perReplica && shard.owner !== instanceId) continue;
      if (shard.handle === null) continue;
      const status = await executor.status(shard.handle).catch(() => ({ state: "running" }) as const);
      if (status.state === "running") continue;
      if (shard.started_at !== null && now - Number(shard.started_at) < REPORT_GRACE_MS) continue;
      // Its report may have landed while the executor was asked.
      const latest = await store.shard(shard.id);
      if (latest?.status !== "running" || latest.attempt !== shard.attempt) continue;
      const reason =
        status.state === "unknown"
          ? "the executor has no record of the shard"
          : `the shard runner ended without reporting (exit code ${status.exitCode ?? "unknown"}${status.reason ? `: ${status.reason}` : ""})`;
      await this.#fail(shard, reason);
    }
    if (executor.perReplica) {
      for (const shard of await store.orphans(executor.name, instanceId, now - REPLICA_STALE_MS)) {
        if (await store.requeue(shard.id, shard.attempt)) {
          this.#options.log.warn({ shard: shard.id, replica: shard.owner }, "ci: the replica running a shard stopped; queued again");
          await this.#changed(shard.run_id, await this.#installationOf(shard.run_id));
          this.wake();
        }
      }
    }
    if (now - this.#lastPrune > 3_600_000 && executor.pruneLogs) {
      this.#lastPrune = now;
      await executor.pruneLogs(now - (this.#options.logRetentionMs ?? 14 * 86_400_000)).catch((error: unknown) => this.#options.log.warn({ err: error }, "ci: could not prune shard logs"));
    }
  }

  async #fail(shard: CiShard, error: string): Promise<void> {
    const report: StoredResult = { passed: 0, skipped: 0, failures: [], flaky: [], quarantined: [], files: [], durationMs: 0, exitCode: 1, error };
    if (await this.#options.store.completeShard(shard.id, shard.attempt, "failed", JSON.stringify(report))) await this.#finished(shard);
  }

  async #stop(shard: CiShard): Promise<void> {
    if (shard.handle === null) return;
    await this.#options.executor.cancel(shard.handle).catch((error: unknown) => this.#options.log.warn({ err: error, shard: shard.id }, "ci: could not stop a shard"));
  }

  /** Records "run X changed" for the outbox; the sender reads the run's latest state when it sends. */
  async #changed(runId: string, installationId: number): Promise<void> {
    await this.#options.outbox.record({ key: `ci-run:${runId}`, installationId: Number(installationId), kind: "ci-run" }, JSON.stringify({ runId }), PRIORITY.normal);
    this.#options.wakeDrain();
  }

  /** Logs of a shard attempt (the check run's details link). */
  async logs(shardId: string, attempt: number): Promise<string | undefined> {
    const shard = await this.#options.store.shard(shardId);
    if (!shard || shard.attempt !== attempt || shard.handle === null) return undefined;
    return this.#options.executor.logs(shard.handle, 1_000_000);
  }
}
