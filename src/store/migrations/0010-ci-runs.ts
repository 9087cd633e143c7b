import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * Test runs (src/ci): a run per pushed commit, its shards with the files planned for them (a re-run
 * runs the same ones), the durations measured per file on the default branch (the planner's
 * weights), and the tests found flaky per commit.
 */
export const ciRuns: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("ci_runs")
      .addColumn("id", "text", (column) => column.primaryKey())
      .addColumn("installation_id", "bigint", (column) => column.notNull())
      .addColumn("owner", "text", (column) => column.notNull())
      .addColumn("repo", "text", (column) => column.notNull())
      .addColumn("repository_id", "bigint", (column) => column.notNull())
      .addColumn("branch", "text", (column) => column.notNull())
      .addColumn("sha", "text", (column) => column.notNull())
      .addColumn("default_branch", "integer", (column) => column.notNull())
      .addColumn("status", "text", (column) => column.notNull())
      .addColumn("conclusion", "text")
      .addColumn("settings", "text", (column) => column.notNull())
      .addColumn("summary_check_run_id", "bigint")
      .addColumn("summary_sent", "text")
      .addColumn("github_writes", "integer", (column) => column.notNull().defaultTo(0))
      .addColumn("write_budget", "integer", (column) => column.notNull())
      .addColumn("created_at", "bigint", (column) => column.notNull())
      .addColumn("updated_at", "bigint", (column) => column.notNull())
      .execute();
    await db.schema.createIndex("ci_runs_by_branch").on("ci_runs").columns(["repository_id", "branch", "created_at"]).execute();
    await db.schema.createIndex("ci_runs_by_sha").on("ci_runs").columns(["repository_id", "sha"]).execute();

    await db.schema
      .createTable("ci_shards")
      .addColumn("id", "text", (column) => column.primaryKey())
      .addColumn("run_id", "text", (column) => column.notNull())
      .addColumn("shard_index", "integer", (column) => column.notNull())
      .addColumn("shard_total", "integer", (column) => column.notNull())
      .addColumn("files", "text", (column) => column.notNull())
      .addColumn("status", "text", (column) => column.notNull())
      .addColumn("attempt", "integer", (column) => column.notNull())
      .addColumn("priority", "integer", (column) => column.notNull())
      .addColumn("queued_at", "bigint", (column) => column.notNull())
      .addColumn("executor", "text")
      .addColumn("handle", "text")
      .addColumn("owner", "text")
      .addColumn("started_at", "bigint")
      .addColumn("finished_at", "bigint")
      .addColumn("result", "text")
      .addColumn("check_run_id", "bigint")
      .addColumn("check_sent", "text")
      .execute();
    await db.schema.createIndex("ci_shards_by_run").on("ci_shards").columns(["run_id", "shard_index"]).execute();
    await db.schema.createIndex("ci_shards_by_status").on("ci_shards").columns(["status", "priority", "queued_at"]).execute();
    await db.schema.createIndex("ci_shards_by_check_run").on("ci_shards").columns(["check_run_id"]).execute();

    await db.schema
      .createTable("ci_file_timings")
      .addColumn("repository_id", "bigint", (column) => column.notNull())
      .addColumn("path", "text", (column) => column.notNull())
      .addColumn("duration_ms", "integer", (column) => column.notNull())
      .addColumn("recorded_at", "bigint", (column) => column.notNull())
      .execute();
    await db.schema.createIndex("ci_file_timings_by_file").on("ci_file_timings").columns(["repository_id", "path", "recorded_at"]).execute();

    await db.schema
      .createTable("ci_flaky_tests")
      .addColumn("repository_id", "bigint", (column) => column.notNull())
      .addColumn("test_id", "text", (column) => column.notNull())
      .addColumn("sha", "text", (column) => column.notNull())
      .addColumn("recorded_at", "bigint", (column) => column.notNull())
      .addPrimaryKeyConstraint("ci_flaky_tests_pk", ["repository_id", "test_id", "sha"])
      .execute();
  },
};
