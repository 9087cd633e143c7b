import { randomUUID } from "node:crypto";
import type { Selectable } from "kysely";
import type { Store } from "../store/open-store.ts";
import type { CiRunTable, CiShardStatus, CiShardTable } from "../store/schema.ts";

export type CiRun = Selectable<CiRunTable>;
export type CiShard = Selectable<CiShardTable>;

export const DEFAULT_BRANCH_PRIORITY = 2;
const BRANCH_PRIORITY = 1;
const TERMINAL: CiShardStatus[] = ["passed", "failed", "cancelled"];
/** Durations kept per file for its median. */
const HISTORY = 10;

export interface NewRun {
  installationId: number;
  owner: string;
  repo: string;
  repositoryId: number;
  branch: string;
  sha: string;
  defaultBranch: boolean;
  settings: string;
  shards: string[][];
}

/** Runs, shards, timings and flaky tests in the store; every state change is one conditional statement. */
export class CiStore {
  readonly #store: Store;
  readonly #now: () => number;

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  get #db() {
    return this.#store.db;
  }

  async createRun(run: NewRun): Promise<string> {
    const id = randomUUID();
    const now = this.#now();
    const priority = run.defaultBranch ? DEFAULT_BRANCH_PRIORITY : BRANCH_PRIORITY;
    await this.#db.transaction().execute(async (trx) => {
      await trx
        .insertInto("ci_runs")
        .values({
          id,
          installation_id: run.installationId,
          owner: run.owner,
          repo: run.repo,
          repository_id: run.repositoryId,
          branch: run.branch,
          sha: run.sha,
          default_branch: run.defaultBranch ? 1 : 0,
          status: "running",
          conclusion: null,
          settings: run.settings,
          summary_check_run_id: null,
          summary_sent: null,
          write_budget: 2 * run.shards.length + 4,
          created_at: now,
          updated_at: now,
        })
        .execute();
      for (const [index, files] of run.shards.entries()) {
        await trx
          .insertInto("ci_shards")
          .values({
            id: randomUUID(),
            run_id: id,
            shard_index: index + 1,
            shard_total: run.shards.length,
            files: JSON.stringify(files),
            status: "queued",
            attempt: 1,
            priority,
            queued_at: now,
            executor: null,
            handle: null,
            owner: null,
            started_at: null,
            finished_at: null,
            result: null,
            check_run_id: null,
            check_sent: null,
          })
          .execute();
      }
    });
    return id;
  }

  run(id: string): Promise<CiRun | undefined> {
    return this.#db.selectFrom("ci_runs").selectAll().where("id", "=", id).executeTakeFirst();
  }

  shard(id: string): Promise<CiShard | undefined> {
    return this.#db.selectFrom("ci_shards").selectAll().where("id", "=", id).executeTakeFirst();
  }

  shards(runId: string): Promise<CiShard[]> {
    return this.#db.selectFrom("ci_shards").selectAll().where("run_id", "=", runId).orderBy("shard_index").execute();
  }

  /** Unfinished runs of the branch older than `newerRunId`'s: a newer push supersedes them. */
  async supersededRuns(repositoryId: number, branch: string, newerRunId: string): Promise<string[]> {
    const newer = await this.run(newerRunId);
    if (!newer) return [];
    const rows = await this.#db
      .selectFrom("ci_runs")
      .select("id")
      .where("repository_id", "=", repositoryId)
      .where("branch", "=", branch)
      .where("status", "=", "running")
      .where("id", "!=", newerRunId)
      .where("created_at", "<=", newer.created_at)
      .execute();
    return rows.map((row) => row.id);
  }

  /** Ends a run as cancelled; returns the shards that were running, for their executors to stop. */
  async cancelRun(runId: string): Promise<CiShard[]> {
    return this.#db.transaction().execute(async (trx) => {
      const running = await trx.selectFrom("ci_shards").selectAll().where("run_id", "=", runId).where("status", "=", "running").execute();
      await trx
        .updateTable("ci_shards")
        .set({ status: "cancelled", finished_at: this.#now() })
        .where("run_id", "=", runId)
        .where("status", "in", ["queued", "running"])
        .execute();
      await trx.updateTable("ci_runs").set({ status: "cancelled", conclusion: "cancelled", updated_at: this.#now() }).where("id", "=", runId).where("status", "=", "running").execute();
      return running;
    });
  }

  /** Takes the most urgent queued shard for this replica: default-branch shards first, then the oldest. */
  async claimQueued(owner: string, executor: string): Promise<CiShard | undefined> {
    const now = this.#now();
    const next = await this.#store
      .lockForClaim(this.#db.selectFrom("ci_shards").selectAll().where("status", "=", "queued").orderBy("priority", "desc").orderBy("queued_at").orderBy("shard_index").limit(1))
      .executeTakeFirst();
    if (!next) return undefined;
    const taken = await this.#db
      .updateTable("ci_shards")
      .set({ status: "running", owner, executor, started_at: now, handle: null })
      .where("id", "=", next.id)
      .where("status", "=", "queued")
      .where("attempt", "=", next.attempt)
      .executeTakeFirst();
    return Number(taken.numUpdatedRows) === 1 ? { ...next, status: "running", owner, executor, started_at: now } : undefined;
  }

  async setHandle(shardId: string, attempt: number, handle: string): Promise<void> {
    await this.#db.updateTable("ci_shards").set({ handle }).where("id", "=", shardId).where("attempt", "=", attempt).execute();
  }

  async countRunning(executor: string, owner?: string): Promise<number> {
    const row = await this.#db
      .selectFrom("ci_shards")
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .where("status", "=", "running")
      .where("executor", "=", executor)
      .$if(owner !== undefined, (query) => query.where("owner", "=", owner!))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** Running shards to watch: this replica's, or all of an executor that is not per replica. */
  running(executor: string, owner?: string): Promise<CiShard[]> {
    return this.#db
      .selectFrom("ci_shards")
      .selectAll()
      .where("status", "=", "running")
      .where("executor", "=", executor)
      .$if(owner !== undefined, (query) => query.where("owner", "=", owner!))
      .execute();
  }

  /** Records a shard attempt's outcome once: a second report, or one for another attempt, changes nothing. */
  async completeShard(shardId: string, attempt: number, status: "passed" | "failed", result: string): Promise<boolean> {
    const done = await this.#db
      .updateTable("ci_shards")
      .set({ status, result, finished_at: this.#now() })
      .where("id", "=", shardId)
      .where("attempt", "=", attempt)
      .where("status", "=", "running")
      .executeTakeFirst();
    return Number(done.numUpdatedRows) === 1;
  }

  /** Completes the run when every shard has ended; returns it when this call completed it. */
  async finishRunIfDone(runId: string, conclusion: (shards: CiShard[]) => string): Promise<CiRun | undefined> {
    const shards = await this.shards(runId);
    if (shards.length > 0 && !shards.every((shard) => TERMINAL.includes(shard.status))) return undefined;
    const finished = await this.#db
      .updateTable("ci_runs")
      .set({ status: "completed", conclusion: conclusion(shards), updated_at: this.#now() })
      .where("id", "=", runId)
      .where("status", "=", "running")
      .executeTakeFirst();
    return Number(finished.numUpdatedRows) === 1 ? this.run(runId) : undefined;
  }

  /**
   * Queues ended shards again with the same files and a new attempt (a new check run, a new token);
   * the run gets GitHub writes for the re-run: 2 per shard, and 2 for a new summary when it had ended.
   */
  async rerun(runId: string, shardIds: readonly string[]): Promise<number> {
    if (shardIds.length === 0) return 0;
    return this.#db.transaction().execute(async (trx) => {
      const now = this.#now();
      const requeued = await trx
        .updateTable("ci_shards")
        .set((eb) => ({
          status: "queued",
          attempt: eb("attempt", "+", 1),
          queued_at: now,
          result: null,
          check_run_id: null,
          check_sent: null,
          handle: null,
          owner: null,
          started_at: null,
          finished_at: null,
        }))
        .where("run_id", "=", runId)
        .where("id", "in", [...shardIds])
        .where("status", "in", TERMINAL)
        .executeTakeFirst();
      const count = Number(requeued.numUpdatedRows);
      if (count === 0) return 0;
      // A run still going keeps its summary (in progress on GitHub); an ended one gets a new summary.
      const ended = (await trx.selectFrom("ci_runs").select("status").where("id", "=", runId).executeTakeFirst())?.status !== "running";
      await trx
        .updateTable("ci_runs")
        .set((eb) => ({
          status: "running",
          conclusion: null,
          ...(ended ? { summary_check_run_id: null, summary_sent: null } : {}),
          write_budget: eb("write_budget", "+", 2 * count + (ended ? 2 : 0)),
          updated_at: now,
        }))
        .where("id", "=", runId)
        .execute();
      return count;
    });
  }

  /**
   * Puts a running shard back in the queue under a new attempt (its runner's token no longer
   * counts), keeping its check run: its replica stopped, so another runs it from the start.
   */
  async requeue(shardId: string, attempt: number): Promise<boolean> {
    const requeued = await this.#db
      .updateTable("ci_shards")
      .set({ status: "queued", attempt: attempt + 1, queued_at: this.#now(), handle: null, owner: null, started_at: null })
      .where("id", "=", shardId)
      .where("attempt", "=", attempt)
      .where("status", "=", "running")
      .executeTakeFirst();
    return Number(requeued.numUpdatedRows) === 1;
  }

  /** Running shards of an executor that runs them per replica, held by a replica other than `self` with no heartbeat since `liveSince`. */
  orphans(executor: string, self: string, liveSince: number): Promise<CiShard[]> {
    return this.#db
      .selectFrom("ci_shards")
      .selectAll()
      .where("status", "=", "running")
      .where("executor", "=", executor)
      .where("owner", "!=", self)
      .where((eb) => eb.not(eb.exists(eb.selectFrom("replicas").select("instance_id").whereRef("replicas.instance_id", "=", "ci_shards.owner").where("replicas.heartbeat_at", ">=", liveSince))))
      .execute();
  }

  /** Shards waiting for an executor and running, for /healthz. */
  async counts(): Promise<{ queued: number; running: number }> {
    const rows = await this.#db
      .selectFrom("ci_shards")
      .select((eb) => ["status", eb.fn.countAll<number>().as("count")])
      .where("status", "in", ["queued", "running"])
      .groupBy("status")
      .execute();
    const count = (status: string) => Number(rows.find((row) => row.status === status)?.count ?? 0);
    return { queued: count("queued"), running: count("running") };
  }

  async shardByCheckRun(repositoryId: number, checkRunId: number): Promise<CiShard | undefined> {
    return this.#db
      .selectFrom("ci_shards")
      .innerJoin("ci_runs", "ci_runs.id", "ci_shards.run_id")
      .selectAll("ci_shards")
      .where("ci_runs.repository_id", "=", repositoryId)
      .where("ci_shards.check_run_id", "=", checkRunId)
      .executeTakeFirst();
  }

  async runBySummary(repositoryId: number, checkRunId: number): Promise<CiRun | undefined> {
    return this.#db.selectFrom("ci_runs").selectAll().where("repository_id", "=", repositoryId).where("summary_check_run_id", "=", checkRunId).executeTakeFirst();
  }

  async latestRunForSha(repositoryId: number, sha: string): Promise<CiRun | undefined> {
    return this.#db.selectFrom("ci_runs").selectAll().where("repository_id", "=", repositoryId).where("sha", "=", sha).orderBy("created_at", "desc").limit(1).executeTakeFirst();
  }

  async saveShardCheck(shardId: string, attempt: number, checkRunId: number, sent: string): Promise<void> {
    await this.#db.updateTable("ci_shards").set({ check_run_id: checkRunId, check_sent: sent }).where("id", "=", shardId).where("attempt", "=", attempt).execute();
  }

  async saveSummaryCheck(runId: string, checkRunId: number, sent: string): Promise<void> {
    await this.#db.updateTable("ci_runs").set({ summary_check_run_id: checkRunId, summary_sent: sent }).where("id", "=", runId).execute();
  }

  async countWrite(runId: string): Promise<void> {
    await this.#db.updateTable("ci_runs").set((eb) => ({ github_writes: eb("github_writes", "+", 1) })).where("id", "=", runId).execute();
  }

  async recordTimings(repositoryId: number, files: readonly { path: string; durationMs: number }[]): Promise<void> {
    const now = this.#now();
    for (let start = 0; start < files.length; start += 200) {
      const batch = files.slice(start, start + 200).map((file) => ({ repository_id: repositoryId, path: file.path, duration_ms: Math.round(file.durationMs), recorded_at: now }));
      if (batch.length > 0) await this.#db.insertInto("ci_file_timings").values(batch).execute();
    }
  }

  /** The latest durations of each path on the default branch, newest first. */
  async timingHistory(repositoryId: number, paths: readonly string[]): Promise<Map<string, number[]>> {
    const history = new Map<string, number[]>();
    const wanted = new Set(paths);
    const rows = await this.#db
      .selectFrom("ci_file_timings")
      .select(["path", "duration_ms"])
      .where("repository_id", "=", repositoryId)
      .orderBy("recorded_at", "desc")
      .limit(Math.max(1, paths.length) * HISTORY * 2)
      .execute();
    for (const row of rows) {
      if (!wanted.has(row.path)) continue;
      const durations = history.get(row.path) ?? [];
      if (durations.length < HISTORY) durations.push(Number(row.duration_ms));
      history.set(row.path, durations);
    }
    return history;
  }

  async recordFlaky(repositoryId: number, sha: string, testIds: readonly string[]): Promise<void> {
    for (const testId of testIds) {
      await this.#db
        .insertInto("ci_flaky_tests")
        .values({ repository_id: repositoryId, test_id: testId, sha, recorded_at: this.#now() })
        .onConflict((conflict) => conflict.columns(["repository_id", "test_id", "sha"]).doNothing())
        .execute();
    }
  }

  /** On how many commits each test was found flaky. */
  async flakyCounts(repositoryId: number, testIds: readonly string[]): Promise<Map<string, number>> {
    if (testIds.length === 0) return new Map();
    const rows = await this.#db
      .selectFrom("ci_flaky_tests")
      .select((eb) => ["test_id", eb.fn.countAll<number>().as("count")])
      .where("repository_id", "=", repositoryId)
      .where("test_id", "in", [...testIds])
      .groupBy("test_id")
      .execute();
    return new Map(rows.map((row) => [row.test_id, Number(row.count)]));
  }
}
