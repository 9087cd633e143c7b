import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * The inbox's urgent lane: a delivery's priority, set at the intake (a maintainer's `/rollback` or
 * `/abort` is urgent), claimed first. And the limits on refusals and GitHub writes, kept in the store
 * so that every replica counts against the same ones.
 */
export const inboxLanes: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("webhook_deliveries").addColumn("priority", "integer", (column) => column.notNull().defaultTo(0)).execute();
    await db.schema
      .createIndex("webhook_deliveries_by_priority")
      .on("webhook_deliveries")
      .columns(["status", "priority", "next_attempt_at"])
      .execute();
  },
};
