import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * The inbox's urgent lane: a delivery's priority, set at the intake (a maintainer's `/rollback` or
 * `/abort` is urgent), claimed first. And the replies to refused commands, kept in the store so that
 * every replica counts against the same limit.
 */
export const inboxLanes: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("webhook_deliveries").addColumn("priority", "integer", (column) => column.notNull().defaultTo(0)).execute();
    await db.schema
      .createIndex("webhook_deliveries_by_priority")
      .on("webhook_deliveries")
      .columns(["status", "priority", "next_attempt_at"])
      .execute();
    await db.schema
      .createTable("refusal_replies")
      .addColumn("key", "text", (column) => column.notNull())
      .addColumn("slot", "integer", (column) => column.notNull())
      .addColumn("replied_at", "bigint", (column) => column.notNull())
      .addColumn("kind", "text", (column) => column.notNull())
      .addPrimaryKeyConstraint("refusal_replies_pk", ["key", "slot"])
      .execute();
  },
};
