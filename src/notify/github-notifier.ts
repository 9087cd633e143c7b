import type { ProbotOctokit } from "probot";
import { TERMINAL_PHASES, type DeploymentObserver, type DeploymentView } from "../deploy/api.ts";
import { checkRunState, deploymentState, type DeploymentState } from "./github-states.ts";
import type { DeploymentNotifications, NotificationRow } from "./notification-store.ts";
import { describePhase, shortSha } from "./format.ts";
import { renderStatusComment } from "./status-comment.ts";

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface GitHubNotifierOptions {
  notifications: DeploymentNotifications;
  /** An installation Octokit, e.g. `(id) => probot.auth(id)`. */
  octokitFor: (installationId: number) => Promise<Octokit>;
  /** A deployment's page on the dashboard, once there is one. */
  dashboardUrl?: (view: DeploymentView) => string;
}

/** GitHub allows 140 characters in a Deployment status description. */
const MAX_DESCRIPTION = 140;

/**
 * Mirrors each deployment on GitHub: a Deployment and its statuses, the `gantry/deploy <env>` check
 * run, one status comment edited in place, and 🚀 or 👎 on the command when it ends. Every object is
 * created once (its id is stored) and later views only update it, so a repeated view changes nothing.
 */
export class GitHubNotifier implements DeploymentObserver {
  readonly #options: GitHubNotifierOptions;
  /** Changes of one deployment are applied in order; the controller's lease orders them across replicas. */
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(options: GitHubNotifierOptions) {
    this.#options = options;
  }

  deploymentChanged(view: DeploymentView): Promise<void> {
    const previous = this.#inFlight.get(view.id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.#apply(view));
    this.#inFlight.set(view.id, next);
    const forget = () => {
      if (this.#inFlight.get(view.id) === next) this.#inFlight.delete(view.id);
    };
    next.then(forget, forget);
    return next;
  }

  async #apply(view: DeploymentView): Promise<void> {
    const { notifications } = this.#options;
    let row = await notifications.ensure(view);
    if (row.view_updated_at !== null && view.updatedAt <= row.view_updated_at) return;
    const octokit = await this.#options.octokitFor(view.repo.installationId);
    row = await this.#syncCheckRun(octokit, row, view);
    row = await this.#syncDeployment(octokit, row, view);
    await this.#syncComment(octokit, row, view);
    await this.#reactAtEnd(octokit, row, view);
    await notifications.update(view.id, { view_updated_at: view.updatedAt });
  }

  async #syncCheckRun(octokit: Octokit, row: NotificationRow, view: DeploymentView): Promise<NotificationRow> {
    const state = checkRunState(view.phase);
    const output = { title: `${view.environment}: ${describePhase(view)}`, summary: renderStatusComment(view, { checkRun: null, dashboard: this.#dashboard(view) }) };
    const repo = { owner: row.owner, repo: row.repo };
    // Ticks come every few seconds while AWS settles; most change nothing a person would see.
    const sent = JSON.stringify({ state, output });
    if (sent === row.check_run_output) return row;
    if (row.check_run_id === null) {
      const { data } = await octokit.rest.checks.create({
        ...repo,
        name: `gantry/deploy ${view.environment}`,
        head_sha: view.sha,
        external_id: view.id,
        ...state,
        output,
        ...(this.#options.dashboardUrl ? { details_url: this.#options.dashboardUrl(view) } : {}),
      });
      const changes = { check_run_id: data.id, check_run_url: data.html_url ?? null, check_run_output: sent };
      await this.#options.notifications.update(row.deployment_id, changes);
      return { ...row, ...changes };
    }
    await octokit.rest.checks.update({ ...repo, check_run_id: row.check_run_id, ...state, output });
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
    await octokit.rest.repos.createDeploymentStatus({
      owner: row.owner,
      repo: row.repo,
      deployment_id: row.github_deployment_id!,
      state,
      description: description.slice(0, MAX_DESCRIPTION),
      ...(row.check_run_url ? { log_url: row.check_run_url } : {}),
      auto_inactive: false,
    });
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
    if (row.status_comment_id === null) {
      const { data } = await octokit.rest.issues.createComment({ ...repo, issue_number: row.issue_number, body });
      await this.#options.notifications.update(row.deployment_id, { status_comment_id: data.id, status_comment_body: body });
      return;
    }
    await octokit.rest.issues.updateComment({ ...repo, comment_id: row.status_comment_id, body });
    await this.#options.notifications.update(row.deployment_id, { status_comment_body: body });
  }

  async #reactAtEnd(octokit: Octokit, row: NotificationRow, view: DeploymentView): Promise<void> {
    if (!TERMINAL_PHASES.has(view.phase) || row.command_comment_id === null || row.reacted_at !== null) return;
    await octokit.rest.reactions.createForIssueComment({
      owner: row.owner,
      repo: row.repo,
      comment_id: row.command_comment_id,
      content: view.phase === "succeeded" ? "rocket" : "-1",
    });
    await this.#options.notifications.update(row.deployment_id, { reacted_at: view.updatedAt });
  }

  #dashboard(view: DeploymentView): string | null {
    return this.#options.dashboardUrl?.(view) ?? null;
  }
}
