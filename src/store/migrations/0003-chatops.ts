import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/** Comment commands (once-only claims, audit log) and what Gantry wrote to GitHub per deployment. */
export const chatOps: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("command_claims")
      .addColumn("comment_id", "bigint", (column) => column.primaryKey())
      .addColumn("repository", "text", (column) => column.notNull())
      .addColumn("claimed_at", "bigint", (column) => column.notNull())
      .execute();

    await db.schema
      .createTable("audit_log")
      .addColumn("id", "text", (column) => column.primaryKey())
      .addColumn("at", "bigint", (column) => column.notNull())
      .addColumn("repository", "text", (column) => column.notNull())
      .addColumn("issue_number", "integer")
      .addColumn("comment_id", "bigint")
      .addColumn("actor", "text", (column) => column.notNull())
      .addColumn("command", "text", (column) => column.notNull())
      .addColumn("environment", "text")
      .addColumn("decision", "text", (column) => column.notNull())
      .addColumn("gate", "text")
      .addColumn("reason", "text", (column) => column.notNull())
      .execute();
    await db.schema.createIndex("audit_log_by_repository").on("audit_log").columns(["repository", "at"]).execute();

    await db.schema
      .createTable("deployment_notifications")
      .addColumn("deployment_id", "text", (column) => column.primaryKey())
      .addColumn("owner", "text", (column) => column.notNull())
      .addColumn("repo", "text", (column) => column.notNull())
      .addColumn("installation_id", "bigint", (column) => column.notNull())
      .addColumn("environment", "text", (column) => column.notNull())
      .addColumn("sha", "text", (column) => column.notNull())
      .addColumn("issue_number", "integer")
      .addColumn("command_comment_id", "bigint")
      .addColumn("github_deployment_id", "bigint")
      .addColumn("deployment_state", "text")
      .addColumn("status_comment_id", "bigint")
      .addColumn("status_comment_body", "text")
      .addColumn("check_run_id", "bigint")
      .addColumn("check_run_url", "text")
      .addColumn("check_run_output", "text")
      .addColumn("reacted_at", "bigint")
      .addColumn("view_updated_at", "bigint")
      .addColumn("created_at", "bigint", (column) => column.notNull())
      .execute();
    await db.schema
      .createIndex("deployment_notifications_by_environment")
      .on("deployment_notifications")
      .columns(["owner", "repo", "environment", "created_at"])
      .execute();
  },
};
