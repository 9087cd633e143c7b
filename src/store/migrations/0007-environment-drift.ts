import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/** Weights found on a production listener that differ from what Gantry last set there. */
export const environmentDrift: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("environment_drift")
      .addColumn("owner", "text", (column) => column.notNull())
      .addColumn("repo", "text", (column) => column.notNull())
      .addColumn("environment", "text", (column) => column.notNull())
      .addColumn("deployment_id", "text", (column) => column.notNull())
      .addColumn("expected", "text", (column) => column.notNull())
      .addColumn("observed", "text", (column) => column.notNull())
      .addColumn("detected_at", "bigint", (column) => column.notNull())
      .addColumn("observed_at", "bigint", (column) => column.notNull())
      .addColumn("resolution", "text")
      .addColumn("resolved_by", "text")
      .addColumn("resolved_at", "bigint")
      .addColumn("note", "text")
      .addPrimaryKeyConstraint("environment_drift_pk", ["owner", "repo", "environment"])
      .execute();
  },
};
