import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/** The inbox pruner finds finished deliveries by status and age without scanning the table. */
export const inboxRetention: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex("webhook_deliveries_finished")
      .on("webhook_deliveries")
      .columns(["status", "processed_at"])
      .execute();
  },
};
