import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * Comment commands become durable records that a retried delivery resumes (replacing the once-only
 * claim), and a deployment remembers the command that created it, so a retry finds it.
 */
export const commandRecords: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("command_records")
      .addColumn("comment_id", "bigint", (column) => column.primaryKey())
      .addColumn("repository", "text", (column) => column.notNull())
      .addColumn("step", "text", (column) => column.notNull())
      .addColumn("decision", "text")
      .addColumn("outcome", "text")
      .addColumn("lease_owner", "text")
      .addColumn("lease_until", "bigint", (column) => column.notNull().defaultTo(0))
      .addColumn("received_at", "bigint", (column) => column.notNull())
      .addColumn("updated_at", "bigint", (column) => column.notNull())
      .execute();
    await db.schema.dropTable("command_claims").execute();

    await db.schema.alterTable("deployments").addColumn("idempotency_key", "text").execute();
    await db.schema.createIndex("deployments_by_idempotency_key").on("deployments").column("idempotency_key").unique().execute();
  },
};
