import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * The writes sent to GitHub per installation, numbered in order, so that every replica paces them
 * against the same minute and hour windows: a write takes the next number with one conditional
 * insert, and two replicas cannot take the same one.
 */
export const githubWriteWindows: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("github_writes")
      .addColumn("installation_id", "bigint", (column) => column.notNull())
      .addColumn("seq", "bigint", (column) => column.notNull())
      .addColumn("sent_at", "bigint", (column) => column.notNull())
      .addColumn("next_at", "bigint", (column) => column.notNull())
      .addPrimaryKeyConstraint("github_writes_pk", ["installation_id", "seq"])
      .execute();
    // The drain asks which installations are held (`next_at` ahead); the pruner finds old writes by age.
    await db.schema.createIndex("github_writes_by_next").on("github_writes").column("next_at").execute();
    await db.schema.createIndex("github_writes_by_age").on("github_writes").column("sent_at").execute();
  },
};
