import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * The approvals a deployment has collected, as JSON on its row: written by the API (a person's
 * /approve or Slack click) with a compare-and-set, never by a tick, so an approval and a tick's
 * save never overwrite each other.
 */
export const deploymentApprovals: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("deployments").addColumn("approvals", "text").execute();
  },
};
