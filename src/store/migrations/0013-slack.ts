import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * Slack: people's Slack ↔ GitHub identity links, the one-time link requests that make them, and the
 * Slack message Gantry keeps up to date for each subject (a deployment, a failing test run).
 */
export const slack: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("slack_identities")
      .addColumn("slack_user_id", "text", (column) => column.primaryKey())
      .addColumn("slack_team_id", "text", (column) => column.notNull())
      .addColumn("github_login", "text", (column) => column.notNull())
      .addColumn("github_id", "bigint", (column) => column.notNull())
      .addColumn("linked_at", "bigint", (column) => column.notNull())
      .execute();
    await db.schema
      .createTable("slack_link_requests")
      .addColumn("token_hash", "text", (column) => column.primaryKey())
      .addColumn("slack_user_id", "text", (column) => column.notNull())
      .addColumn("slack_team_id", "text", (column) => column.notNull())
      .addColumn("slack_user_name", "text", (column) => column.notNull())
      .addColumn("expires_at", "bigint", (column) => column.notNull())
      .addColumn("github_login", "text")
      .addColumn("github_id", "bigint")
      .addColumn("used_at", "bigint")
      .addColumn("created_at", "bigint", (column) => column.notNull())
      .execute();
    await db.schema
      .createTable("slack_messages")
      .addColumn("subject", "text", (column) => column.primaryKey())
      .addColumn("channel", "text", (column) => column.notNull())
      .addColumn("ts", "text", (column) => column.notNull())
      .addColumn("body", "text", (column) => column.notNull())
      .addColumn("view_updated_at", "bigint")
      .addColumn("posted_at", "bigint", (column) => column.notNull())
      .execute();
  },
};
