import type { ProbotOctokit } from "probot";
import type { DeploymentView, Phase } from "../deploy/api.ts";
import { checkRunState, deploymentState, type CheckRunState, type DeploymentState } from "./github-states.ts";
import type { DeploymentNotifications, NotificationRow } from "./notification-store.ts";
import { describePhase, shortSha } from "./format.ts";
import { createCheckRun, createComment, createDeploymentStatus, updateCheckRun, updateComment } from "./github-writes.ts";
import { renderStatusComment } from "./status-comment.ts";

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface GitHubNotifierOptions {
  notifications: DeploymentNotifications;
  /** An installation Octokit, e.g. `(id) => probot.auth(id)`. */
  octokitFor: (installationId: number) => Promise<Octokit>;
  /** A deployment's page on the dashboard, once there is one. */
  dashboardUrl?: (view: DeploymentView) => string;
  /** Progress alone (a new look's numbers) is written at most this often (default 5 minutes); milestones at once. */
  progressRefreshMs?: number;
}

const PROGRESS_REFRESH_MS = 5 * 60_000;

/**
 * What is written as soon as it changes: the phase, the step and its weights, a decision (a verdict
 * that passed or failed), why it stopped, a rollback's time to restore, drift. A look that decides
 * nothing changes only the numbers, which wait for the next refresh.
 */
function milestone(view: DeploymentView): string {
  return JSON.stringify({
    phase: view.phase,
    step: view.step,
    weights: view.weights,
    decisions: view.verdicts.filter((verdict) => verdict.decision !== "inconclusive").length,
    reason: view.reason,
    restored: view.timeToRestoreMs,
    drift: view.drift ? [view.drift.detectedAt, view.drift.resolution] : null,
  });
}

const REACTION: Partial<Record<Phase, "rocket" | "-1">> = { cooling: "rocket", succeeded: "rocket", "rolled-back": "-1", failed: "-1", aborted: "-1" };

/**
 * Mirrors each deployment on GitHub: a Deployment and its statuses, the `gantry/deploy <env>` check
 * run, one status comment edited in place, and 🚀 or 👎 on the command. Every object is created once
 * (its id is stored) and later changes only update it, so sending the same changes again changes nothing.
 * The outbox drain calls it with the changes pending for one deployment: the Deployment gets a status
 * for each state it went through (its history on GitHub), while the comment, the check run and the
 * reaction are written once, from the latest change (superseded updates are merged). The check run is
 * written when its state changes; the comment on milestones (see `milestone`) and, for progress
 * alone, at most every `progressRefreshMs`: a deployment's writes do not grow with its number of looks.
 */
export class GitHubNotifier {
  readonly #options: GitHubNotifierOptions;

  constructor(options: GitHubNotifierOptions) {
    this.#options = options;
  }

  /** `changes`: views of one deployment, oldest first. */
  async apply(changes: readonly DeploymentView[]): Promise<void> {
    const latest = changes.at(-1);
    if (!latest) return;
    const { notifications } = this.#options;
    let row = await notifications.ensure(latest);
    // Older than what GitHub already shows: a change recorded twice, or out of order.
    if (row.view_updated_at !== null && latest.updatedAt < row.view_updated_at) return;
    const octokit = await this.#options.octokitFor(latest.repo.installationId);
    const mark = milestone(latest);
    const refreshMs = this.#options.progressRefreshMs ?? PROGRESS_REFRESH_MS;
    const due = mark !== row.milestone || row.progress_written_at === null || latest.updatedAt - row.progress_written_at >= refreshMs;
    row = await this.#syncCheckRun(octokit, row, latest);
    for (const view of changes) {
      if (row.view_updated_at !== null && view.updatedAt <= row.view_updated_at) continue;
      row = await this.#syncDeployment(octokit, row, view);
      await notifications.update(view.id, { view_updated_at: view.updatedAt });
      row = { ...row, view_updated_at: view.updatedAt };
    }
    if (due) {
      await this.#syncComment(octokit, row, latest);
      await notifications.update(latest.id, { milestone: mark, progress_written_at: latest.updatedAt });
    }
    await this.#syncReaction(octokit, row, latest);
  }

  async #syncCheckRun(octokit: Octokit, row: NotificationRow, view: DeploymentView): Promise<NotificationRow> {
    const state = checkRunState(view.phase);
    const output = { title: `${view.environment}: ${describePhase(view)}`, summary: renderStatusComment(view, { checkRun: null, dashboard: this.#dashboard(view) }) };
    const repo = { owner: row.owner, repo: row.repo };
    const sent = JSON.stringify({ state, output });
    const previous = row.check_run_output === null ? null : (JSON.parse(row.check_run_output) as { state: CheckRunState }).state;
    // The check run follows its state (in progress, then its conclusion); the status comment carries the progress.
    if (previous !== null && JSON.stringify(previous) === JSON.stringify(state)) return row;
    // GitHub does not move a completed check run back: a rollback after success gets a new run, which
    // GitHub then shows for the commit (the latest run of a name is the one that counts).
    const reopened = previous?.status === "completed" && JSON.stringify(previous) !== JSON.stringify(state);
    if (row.check_run_id === null || reopened) {
      const data = await createCheckRun(
        octokit,
        repo,
        {
          name: `gantry/deploy ${view.environment}`,
          head_sha: view.sha,
          external_id: view.id,
          ...state,
          ...(this.#options.dashboardUrl ? { details_url: this.#options.dashboardUrl(view) } : {}),
        },
        output,
        this.#seeAllAt(view),
      );
      const changes = { check_run_id: data.id, check_run_url: data.html_url ?? null, check_run_output: sent };
      await this.#options.notifications.update(row.deployment_id, changes);
      return { ...row, ...changes };
    }
    await updateCheckRun(octokit, { ...repo, check_run_id: row.check_run_id }, state, output, this.#seeAllAt(view));
    await this.#options.notifications.update(row.deployment_id, { check_run_output: sent });
    return { ...row, check_run_output: sent };
  }

  async #syncDeployment(octokit: Octokit, row: NotificationRow, view: DeploymentView): Promise<NotificationRow> {
    const { notifications } = this.#options;
    const repo = { owner: row.owner, repo: row.repo };
    if (row.github_deployment_id === null) {
      const { data } = await octokit.rest.repos.createDeployment({
        ...repo,
        ref: view.sha,
        environment: view.environment,
        payload: { gantryDeploymentId: view.id, imageDigest: view.imageDigest },
        description: `Gantry: ${shortSha(view.sha)} to ${view.environment}, requested by @${view.requestedBy}`,
        // Gantry's own gates already ran; GitHub must not merge or re-check anything.
        auto_merge: false,
        required_contexts: [],
      });
      if (!("id" in data)) throw new Error(`GitHub did not create a deployment: ${data.message ?? "no reason given"}`);
      await notifications.update(row.deployment_id, { github_deployment_id: data.id });
      row = { ...row, github_deployment_id: data.id };
      // Every Deployment's history starts at queued, even when it starts work at once.
      await this.#postStatus(octokit, row, "queued", `Queued: ${shortSha(view.sha)} to ${view.environment}`);
      row = { ...row, deployment_state: "queued" };
    }
    const state = deploymentState(view.phase);
    if (state === row.deployment_state) return row;
    await this.#postStatus(octokit, row, state, this.#statusDescription(view));
    row = { ...row, deployment_state: state };

    if (state === "success") {
      // GitHub marks superseded deployments inactive by itself only outside production environments.
      const superseded = await notifications.latestBefore(row, ["success"]);
      if (superseded) await this.#postStatus(octokit, superseded, "inactive", `Superseded by ${shortSha(view.sha)}`);
    } else if (state === "failure") {
      // The colour a rollback returns to runs the deployment that was live before: mark it active again.
      const restored = await notifications.latestBefore(row, ["success", "inactive"]);
      if (restored?.deployment_state === "inactive") {
        await this.#postStatus(octokit, restored, "success", `Live again after ${shortSha(view.sha)} was rolled back`);
      }
    }
    return row;
  }

  async #postStatus(octokit: Octokit, row: NotificationRow, state: DeploymentState, description: string): Promise<void> {
    await createDeploymentStatus(
      octokit,
      { owner: row.owner, repo: row.repo },
      { deployment_id: row.github_deployment_id!, state, ...(row.check_run_url ? { log_url: row.check_run_url } : {}), auto_inactive: false },
      description,
    );
    await this.#options.notifications.update(row.deployment_id, { deployment_state: state });
  }

  #statusDescription(view: DeploymentView): string {
    const image = view.imageDigest ? ` (${view.imageDigest.slice(0, 19)}…)` : "";
    return view.reason ? `${describePhase(view)}: ${view.reason}` : `${describePhase(view)}${image}`;
  }

  async #syncComment(octokit: Octokit, row: NotificationRow, view: DeploymentView): Promise<void> {
    if (row.issue_number === null) return;
    const body = renderStatusComment(view, { checkRun: row.check_run_url, dashboard: this.#dashboard(view) });
    if (body === row.status_comment_body) return;
    const repo = { owner: row.owner, repo: row.repo };
    const seeAllAt = row.check_run_url ? `in the [check run](${row.check_run_url})` : this.#seeAllAt(view);
    if (row.status_comment_id === null) {
      const data = await createComment(octokit, { ...repo, issue_number: row.issue_number }, { body, seeAllAt });
      await this.#options.notifications.update(row.deployment_id, { status_comment_id: data.id, status_comment_body: body });
      return;
    }
    await updateComment(octokit, { ...repo, comment_id: row.status_comment_id }, { body, seeAllAt });
    await this.#options.notifications.update(row.deployment_id, { status_comment_body: body });
  }

  /** 🚀 once traffic is all on the new version and its watch passed; 👎 when it ended otherwise. */
  async #syncReaction(octokit: Octokit, row: NotificationRow, view: DeploymentView): Promise<void> {
    if (row.command_comment_id === null) return;
    const wanted = REACTION[view.phase];
    if (wanted === undefined || wanted === row.reaction_content) return;
    const comment = { owner: row.owner, repo: row.repo, comment_id: row.command_comment_id };
    if (row.reaction_id !== null) {
      // Already gone (someone removed it) is as good as removed.
      await octokit.rest.reactions.deleteForIssueComment({ ...comment, reaction_id: row.reaction_id }).catch((error: unknown) => {
        if ((error as { status?: number }).status !== 404) throw error;
      });
      await this.#options.notifications.update(row.deployment_id, { reaction_id: null, reaction_content: null });
    }
    const { data } = await octokit.rest.reactions.createForIssueComment({ ...comment, content: wanted });
    await this.#options.notifications.update(row.deployment_id, { reaction_id: data.id, reaction_content: wanted, reacted_at: view.updatedAt });
  }

  /** Where the whole of a text cut for GitHub can be read. */
  #seeAllAt(view: DeploymentView): string {
    const dashboard = this.#dashboard(view);
    return dashboard ? `on the [dashboard](${dashboard})` : "with `/status` or on Gantry's dashboard";
  }

  #dashboard(view: DeploymentView): string | null {
    return this.#options.dashboardUrl?.(view) ?? null;
  }
}
