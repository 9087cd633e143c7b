import type { AuditLog } from "../audit/audit-log.ts";
import { approversGate } from "../commands/gates/approvers.ts";
import type { Gate } from "../commands/gates/gate.ts";
import { permissionGate } from "../commands/gates/permission.ts";
import { gatesFor, runGates } from "../commands/gates/run-gates.ts";
import type { Octokit } from "../commands/github.ts";
import type { PermissionCache } from "../commands/permission-cache.ts";
import { loadRepoConfig } from "../config/load-repo-config.ts";
import { REPO_CONFIG_PATH, type EnvironmentConfig } from "../config/repo-config.ts";
import type { DeploymentController, DeploymentView } from "../deploy/api.ts";
import { shortSha } from "../notify/format.ts";
import type { AuditDecision } from "../store/schema.ts";
import type { SlackIdentities } from "./identity-store.ts";

/** What a button asks: the same as `/approve`, `/abort` (by an approver) and `/rollback` on the pull request. */
export type ClickAct = "approve" | "reject" | "rollback";

export interface ClickDependencies {
  controller: DeploymentController;
  /** The deployment a button names (its value), as people see it. */
  viewOf(id: string): Promise<DeploymentView | undefined>;
  identities: SlackIdentities;
  audit: AuditLog;
  /** An Octokit of the repository's installation: the gates read GitHub with it. */
  octokitFor(installationId: number): Promise<Octokit>;
  permissions: PermissionCache;
  appId: number;
}

export interface Click {
  act: ClickAct;
  deploymentId: string;
  slackUserId: string;
  slackTeamId: string;
  /** Names the click, so a rollback that redeploys is created once however often Slack retries it. */
  clickId: string;
}

/** What a click came to: an ephemeral answer to the person; the message itself is updated by the outbox. */
export interface ClickAnswer {
  decision: AuditDecision;
  text: string;
}

const LINES: Record<ClickAct, string> = { approve: "Approve", reject: "Reject", rollback: "Roll back" };

/**
 * The gates of the comment command a click stands for. Reject stops a deployment awaiting approval,
 * which is the approvers' decision, so it takes the approvers' gates (not the head check: refusing
 * a commit that moved is always allowed).
 */
function gatesOf(act: ClickAct, environment: EnvironmentConfig): Gate[] {
  if (act === "reject") return [permissionGate, approversGate];
  return gatesFor(act, environment).actor;
}

/**
 * A click is authorised exactly as the comment it stands for: the Slack user must be linked to a
 * GitHub user, who must pass the same gates with the configuration of the default branch (four eyes
 * and the pull request's head included). Every answer, refusal or not, is audited.
 */
export async function handleClick(dependencies: ClickDependencies, click: Click): Promise<ClickAnswer> {
  const view = await dependencies.viewOf(click.deploymentId);
  const command = `Slack: ${LINES[click.act]} (deployment ${click.deploymentId.slice(0, 8)})`;
  if (!view) return { decision: "invalid", text: `🛑 ${LINES[click.act]} refused: Gantry knows no deployment ${click.deploymentId.slice(0, 8)}. Nothing was done.` };
  const repository = `${view.repo.owner}/${view.repo.repo}`;
  const audit = async (actor: string, decision: AuditDecision, gate: string | null, reason: string): Promise<ClickAnswer> => {
    await dependencies.audit.record({ repository, issueNumber: view.pullRequest, commentId: null, actor, command, environment: view.environment, decision, gate, reason });
    const text = decision === "accepted" ? `✅ ${reason}` : `🛑 ${LINES[click.act]} refused${gate ? ` by the *${gate}* gate` : ""}: ${reason} Nothing was done.`;
    return { decision, text };
  };

  const identity = await dependencies.identities.find(click.slackUserId, click.slackTeamId);
  if (!identity) {
    return audit(`slack:${click.slackUserId}`, "refused", "identity", "your Slack user is not linked to a GitHub user: run `/gantry link` first, then click again.");
  }
  const actor = identity.githubLogin;
  const octokit = await dependencies.octokitFor(view.repo.installationId);
  const { data: repoData } = await octokit.rest.repos.get({ owner: view.repo.owner, repo: view.repo.repo });
  // Config from the default branch, as for a comment: a pull request cannot loosen its own gates.
  const loaded = await loadRepoConfig(octokit, { owner: view.repo.owner, repo: view.repo.repo, ref: repoData.default_branch });
  const environmentConfig = loaded.status === "valid" ? loaded.config.environments[view.environment] : undefined;
  if (!environmentConfig) {
    return audit(actor, "refused", "config", `${REPO_CONFIG_PATH} on ${repoData.default_branch} is invalid or has no environment ${view.environment}; the gantry/config check shows why.`);
  }
  const refusal = await runGates(gatesOf(click.act, environmentConfig), {
    octokit,
    permissions: dependencies.permissions,
    controller: dependencies.controller,
    repo: view.repo,
    actor,
    appId: dependencies.appId,
    defaultBranch: repoData.default_branch,
    environment: view.environment,
    environmentConfig,
    requiredChecks: [],
    sha: null,
    shaNamed: false,
    pullRequest: null,
  });
  if (refusal) return audit(actor, "refused", refusal.gate, `${refusal.reason} To pass: ${refusal.howToPass}`);

  const request = { repo: view.repo, environment: view.environment, by: actor, id: view.id };
  const what = `the deployment of \`${shortSha(view.sha)}\` to ${view.environment}`;
  switch (click.act) {
    case "approve": {
      const result = await dependencies.controller.approve(request);
      if (!result.ok) return audit(actor, "refused", null, `${result.reason}.`);
      const more = result.approvalsMissing;
      return audit(actor, "accepted", null, more === undefined ? `@${actor} approved ${what}.` : `@${actor}'s approval of ${what} counted; ${more} more needed.`);
    }
    case "reject": {
      const result = await dependencies.controller.abort({ ...request, reason: "rejected in Slack" });
      return result.ok ? audit(actor, "accepted", null, `@${actor} rejected ${what}.`) : audit(actor, "refused", null, `${result.reason}.`);
    }
    case "rollback": {
      const newer = view.phase === "failed" ? await newerThan(dependencies.controller, view) : undefined;
      if (newer) {
        const reason = `the deployment of \`${shortSha(newer.sha)}\` to ${view.environment} (${newer.phase}) came after ${what}; act on its message, or \`/rollback ${view.environment}\` on a pull request.`;
        return audit(actor, "refused", null, reason);
      }
      // A live deployment's button names it; a failed one's rolls back the environment's live deployment, as `/rollback <env>`.
      const target = view.phase === "failed" ? { ...request, id: undefined } : request;
      const result = await dependencies.controller.rollback({ ...target, reason: "from Slack", idempotencyKey: `slack:${click.clickId}` });
      if (!result.ok) return audit(actor, "refused", null, `${result.reason}.`);
      if (result.alreadyRunning) return audit(actor, "accepted", null, `a rollback is already running in ${view.environment}; nothing more was asked.`);
      return audit(actor, "accepted", null, `@${actor} is rolling back ${view.environment}.`);
    }
  }
}

/**
 * The deployment that came after `failed` in its environment, if any: a failed deployment's button
 * acts for the environment only while it is the environment's latest word, so a click on an old
 * message never rolls back a later deployment.
 */
async function newerThan(controller: DeploymentController, failed: DeploymentView): Promise<DeploymentView | undefined> {
  const history = await controller.history(failed.repo, failed.environment);
  const index = history.findIndex((deployment) => deployment.id === failed.id);
  // Newest first; one past the history's window is older than all of it.
  return index === -1 ? history[0] : history[index - 1];
}
