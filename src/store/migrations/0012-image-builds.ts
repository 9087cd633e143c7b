import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * One row per image a commit gets in an ECR repository: the build lock (one build of a commit at a
 * time, on every replica), what builds it and where to follow it after a restart, and what it made.
 */
export const imageBuilds: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("image_builds")
      .addColumn("id", "text", (column) => column.primaryKey())
      .addColumn("ecr_repository", "text", (column) => column.notNull())
      .addColumn("sha", "text", (column) => column.notNull())
      .addColumn("owner", "text", (column) => column.notNull())
      .addColumn("repo", "text", (column) => column.notNull())
      .addColumn("repository_id", "bigint", (column) => column.notNull())
      .addColumn("installation_id", "bigint", (column) => column.notNull())
      .addColumn("dockerfile", "text", (column) => column.notNull())
      .addColumn("context", "text", (column) => column.notNull())
      .addColumn("status", "text", (column) => column.notNull())
      .addColumn("builder", "text")
      .addColumn("build_ref", "text")
      .addColumn("digest", "text")
      .addColumn("reason", "text")
      .addColumn("failures", "integer", (column) => column.notNull().defaultTo(0))
      .addColumn("requested_at", "bigint", (column) => column.notNull())
      .addColumn("started_at", "bigint")
      .addColumn("finished_at", "bigint")
      .addColumn("next_check_at", "bigint", (column) => column.notNull())
      .addColumn("claim_token", "text")
      .addColumn("lease_owner", "text")
      .addColumn("check_run_id", "bigint")
      .addColumn("check_run_sent", "text")
      .addUniqueConstraint("image_builds_commit", ["ecr_repository", "sha"])
      .execute();
    await db.schema.createIndex("image_builds_due").on("image_builds").columns(["status", "next_check_at"]).execute();
  },
};
