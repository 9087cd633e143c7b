import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

export const deployments: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("deployments")
      .addColumn("id", "text", (column) => column.primaryKey())
      .addColumn("owner", "text", (column) => column.notNull())
      .addColumn("repo", "text", (column) => column.notNull())
      .addColumn("installation_id", "bigint", (column) => column.notNull())
      .addColumn("environment", "text", (column) => column.notNull())
      .addColumn("sha", "text", (column) => column.notNull())
      .addColumn("phase", "text", (column) => column.notNull())
      .addColumn("requested_by", "text", (column) => column.notNull())
      .addColumn("pull_request", "integer")
      .addColumn("state", "text", (column) => column.notNull())
      .addColumn("pending_action", "text")
      .addColumn("next_tick_at", "bigint", (column) => column.notNull())
      .addColumn("lease_owner", "text")
      .addColumn("lease_until", "bigint", (column) => column.notNull().defaultTo(0))
      .addColumn("fence", "integer", (column) => column.notNull().defaultTo(0))
      .addColumn("created_at", "bigint", (column) => column.notNull())
      .addColumn("updated_at", "bigint", (column) => column.notNull())
      .execute();
    await db.schema.createIndex("deployments_due").on("deployments").columns(["next_tick_at"]).execute();
    await db.schema
      .createIndex("deployments_by_environment")
      .on("deployments")
      .columns(["owner", "repo", "environment", "created_at"])
      .execute();
    await db.schema
      .createTable("environment_locks")
      .addColumn("owner", "text", (column) => column.notNull())
      .addColumn("repo", "text", (column) => column.notNull())
      .addColumn("environment", "text", (column) => column.notNull())
      .addColumn("kind", "text", (column) => column.notNull())
      .addColumn("holder", "text", (column) => column.notNull())
      .addColumn("deployment_id", "text")
      .addColumn("reason", "text")
      .addColumn("pull_request", "integer")
      .addColumn("since", "bigint", (column) => column.notNull())
      .addPrimaryKeyConstraint("environment_locks_pk", ["owner", "repo", "environment"])
      .execute();
  },
};
