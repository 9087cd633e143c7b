import type { Updateable } from "kysely";
import type { DeploymentView } from "../deploy/api.ts";
import type { CommandLinks } from "../commands/execute-command.ts";
import type { Store } from "../store/open-store.ts";
import type { DeploymentNotificationTable } from "../store/schema.ts";
import type { DeploymentState } from "./github-states.ts";

export type NotificationRow = DeploymentNotificationTable;

/** The GitHub ids Gantry created for each deployment, so each object is created once and then updated. */
export class DeploymentNotifications implements CommandLinks {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** The row of a deployment, created on first sight. */
  async ensure(view: DeploymentView): Promise<NotificationRow> {
    await this.#store.db
      .insertInto("deployment_notifications")
      .values(this.#newRow(view))
      .onConflict((conflict) => conflict.column("deployment_id").doNothing())
      .execute();
    return this.#store.db
      .selectFrom("deployment_notifications")
      .selectAll()
      .where("deployment_id", "=", view.id)
      .executeTakeFirstOrThrow();
  }

  /** Called by the command handler when its command started a deployment (before or after the first change). */
  async linkCommand(view: DeploymentView, link: { commentId: number; issueNumber: number }): Promise<void> {
    await this.#store.db
      .insertInto("deployment_notifications")
      .values({ ...this.#newRow(view), command_comment_id: link.commentId, issue_number: link.issueNumber })
      .onConflict((conflict) =>
        conflict.column("deployment_id").doUpdateSet({ command_comment_id: link.commentId, issue_number: link.issueNumber }),
      )
      .execute();
  }

  /** The row of a deployment, if GitHub has been written to for it yet (Slack's message links to what it holds). */
  async find(deploymentId: string): Promise<NotificationRow | undefined> {
    return this.#store.db.selectFrom("deployment_notifications").selectAll().where("deployment_id", "=", deploymentId).executeTakeFirst();
  }

  async update(deploymentId: string, changes: Updateable<NotificationRow>): Promise<void> {
    await this.#store.db.updateTable("deployment_notifications").set(changes).where("deployment_id", "=", deploymentId).execute();
  }

  /** The latest GitHub Deployment before `row` in the same environment whose last state is one of `states`. */
  async latestBefore(row: NotificationRow, states: DeploymentState[]): Promise<NotificationRow | undefined> {
    return this.#store.db
      .selectFrom("deployment_notifications")
      .selectAll()
      .where("owner", "=", row.owner)
      .where("repo", "=", row.repo)
      .where("environment", "=", row.environment)
      .where("deployment_id", "!=", row.deployment_id)
      .where("created_at", "<=", row.created_at)
      .where("github_deployment_id", "is not", null)
      .where("deployment_state", "in", states)
      .orderBy("created_at", "desc")
      .limit(1)
      .executeTakeFirst();
  }

  #newRow(view: DeploymentView): NotificationRow {
    return {
      deployment_id: view.id,
      owner: view.repo.owner,
      repo: view.repo.repo,
      installation_id: view.repo.installationId,
      environment: view.environment,
      sha: view.sha,
      issue_number: view.pullRequest,
      command_comment_id: null,
      github_deployment_id: null,
      deployment_state: null,
      status_comment_id: null,
      status_comment_body: null,
      check_run_id: null,
      check_run_url: null,
      check_run_output: null,
      reacted_at: null,
      reaction_id: null,
      reaction_content: null,
      view_updated_at: null,
      created_at: view.createdAt,
      progress_written_at: null,
      milestone: null,
    };
  }
}
