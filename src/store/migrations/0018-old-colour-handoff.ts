import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * Who may act on the colour a cooling deployment left: the deployment itself ("held", while it scales
 * that colour down or gives it the traffic back) or the next deployment ("handed-over", which runs
 * its new version there). Both take it with a compare-and-set on this one column, so the two can
 * never act on that colour's ECS service at once.
 */
export const oldColourHandoff: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("deployments").addColumn("old_colour", "text").execute();
  },
};
