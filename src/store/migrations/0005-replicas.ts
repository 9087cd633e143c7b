import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/** Controller replicas' heartbeats, and the delayed read-back of an ended deployment's final weights. */
export const replicas: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("replicas")
      .addColumn("instance_id", "text", (column) => column.primaryKey())
      .addColumn("heartbeat_at", "bigint", (column) => column.notNull())
      .addColumn("started_at", "bigint", (column) => column.notNull())
      .execute();
    await db.schema.alterTable("deployments").addColumn("final_check_at", "bigint").execute();
  },
};
