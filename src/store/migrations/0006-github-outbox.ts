import { PostgresAdapter, type Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * The outbox of writes to GitHub: one row per subject (a deployment's GitHub objects), claimed with a
 * lease, and the changes recorded for it in order. Also the reaction Gantry last put on a command,
 * so it can be swapped (🚀 → 👎) when a live deployment is rolled back.
 */
export const githubOutbox: Migration = {
  async up(db: Kysely<unknown>) {
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    await db.schema
      .createTable("github_outbox")
      .addColumn("subject", "text", (column) => column.primaryKey())
      .addColumn("installation_id", "bigint", (column) => column.notNull())
      .addColumn("kind", "text", (column) => column.notNull())
      .addColumn("priority", "integer", (column) => column.notNull())
      .addColumn("next_attempt_at", "bigint", (column) => column.notNull())
      .addColumn("claim_token", "text")
      .addColumn("lease_owner", "text")
      .addColumn("attempts", "integer", (column) => column.notNull().defaultTo(0))
      .addColumn("last_error", "text")
      .addColumn("created_at", "bigint", (column) => column.notNull())
      .execute();
    await db.schema.createIndex("github_outbox_due").on("github_outbox").columns(["next_attempt_at"]).execute();
    await db.schema.createIndex("github_outbox_by_installation").on("github_outbox").columns(["installation_id", "next_attempt_at"]).execute();

    await db.schema
      .createTable("github_outbox_changes")
      .addColumn("seq", postgres ? "bigserial" : "integer", (column) => (postgres ? column.primaryKey() : column.primaryKey().autoIncrement()))
      .addColumn("subject", "text", (column) => column.notNull())
      .addColumn("priority", "integer", (column) => column.notNull())
      .addColumn("payload", "text", (column) => column.notNull())
      .addColumn("recorded_at", "bigint", (column) => column.notNull())
      .execute();
    await db.schema.createIndex("github_outbox_changes_by_subject").on("github_outbox_changes").columns(["subject", "seq"]).execute();

    await db.schema.alterTable("deployment_notifications").addColumn("reaction_id", "bigint").execute();
    await db.schema.alterTable("deployment_notifications").addColumn("reaction_content", "text").execute();
  },
};
