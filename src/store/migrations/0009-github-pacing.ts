import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * Pacing of writes to GitHub per installation: when GitHub said to wait (Retry-After, or a spent
 * primary limit), every replica holds that installation's writes until then. And when a deployment's
 * progress was last written, so progress alone is refreshed only every few minutes.
 */
export const githubPacing: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("github_installations")
      .addColumn("installation_id", "bigint", (column) => column.primaryKey())
      .addColumn("blocked_until", "bigint", (column) => column.notNull())
      .addColumn("reason", "text")
      .execute();
    await db.schema.alterTable("deployment_notifications").addColumn("progress_written_at", "bigint").execute();
    await db.schema.alterTable("deployment_notifications").addColumn("milestone", "text").execute();
  },
};
