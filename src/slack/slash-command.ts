import type { AuditLog } from "../audit/audit-log.ts";
import { hasReadAccess } from "../commands/gates/permission.ts";
import type { Octokit } from "../commands/github.ts";
import type { PermissionCache } from "../commands/permission-cache.ts";
import type { DeploymentController, EnvironmentStatus } from "../deploy/api.ts";
import { describePhase, describeWeights, shortSha } from "../notify/format.ts";
import type { SlackIdentities } from "./identity-store.ts";
import { LINK_PATH } from "./link-pages.ts";
import { escapeMrkdwn } from "./message-blocks.ts";

export interface SlashCommandDependencies {
  identities: SlackIdentities;
  controller: DeploymentController;
  audit: AuditLog;
  permissions: PermissionCache;
  /** The App's own Octokit (JWT): finds a repository's installation. */
  appOctokit(): Promise<Octokit>;
  octokitFor(installationId: number): Promise<Octokit>;
  /** Where `/gantry link` sends people; undefined when linking through GitHub is not set up. */
  linkBaseUrl: string | undefined;
}

export interface SlashCommand {
  text: string;
  userId: string;
  userName: string;
  teamId: string;
}

export const HELP = [
  "`/gantry link`: link your Slack user to your GitHub user (through GitHub), so your clicks count as you",
  "`/gantry unlink`: remove that link",
  "`/gantry whoami`: the GitHub user you act as",
  "`/gantry status owner/repo [environment]`: what runs where",
].join("\n");

/** `/gantry …`: the answer is shown to the person alone. */
export async function answerSlashCommand(dependencies: SlashCommandDependencies, command: SlashCommand): Promise<string> {
  const [verb = "help", ...args] = command.text.trim().split(/\s+/).filter(Boolean);
  switch (verb.toLowerCase()) {
    case "link":
      return link(dependencies, command);
    case "unlink": {
      if (dependencies.identities.isSetByOperator(command.userId)) return "Your GitHub user is set by Gantry's operator; ask them to change it.";
      return (await dependencies.identities.unlink(command.userId)) ? "Unlinked: your clicks no longer count as any GitHub user." : "You were not linked.";
    }
    case "whoami": {
      const identity = await dependencies.identities.find(command.userId, command.teamId);
      if (!identity) return "You are not linked to a GitHub user: `/gantry link` links you.";
      const how = identity.source === "operator-file" ? "set by Gantry's operator" : "linked through GitHub";
      return `You act as GitHub user *${escapeMrkdwn(identity.githubLogin)}* (${how}).`;
    }
    case "status":
      return status(dependencies, command, args);
    default:
      return HELP;
  }
}

async function link(dependencies: SlashCommandDependencies, command: SlashCommand): Promise<string> {
  if (dependencies.identities.isSetByOperator(command.userId)) return "Your GitHub user is set by Gantry's operator; there is nothing to link.";
  if (!dependencies.linkBaseUrl) return "Linking through GitHub is not set up on this Gantry; ask its operator to map your Slack user to your GitHub user.";
  const token = await dependencies.identities.requestLink({ slackUserId: command.userId, slackTeamId: command.teamId, slackUserName: command.userName });
  const url = new URL(LINK_PATH, dependencies.linkBaseUrl);
  url.searchParams.set("token", token);
  return `Open <${url.href}|this link> within 10 minutes to sign in to GitHub and link your accounts. It works once; do not share it.`;
}

const REPOSITORY = /^([A-Za-z0-9-]{1,39})\/([A-Za-z0-9._-]{1,100})$/;

/** What runs where in a repository, for a linked user who can read it. */
async function status(dependencies: SlashCommandDependencies, command: SlashCommand, args: string[]): Promise<string> {
  const [repository = "", environment] = args;
  const named = REPOSITORY.exec(repository);
  if (!named) return "Name the repository: `/gantry status owner/repo [environment]`.";
  const identity = await dependencies.identities.find(command.userId, command.teamId);
  const refuse = async (actor: string, gate: string, reason: string) => {
    await dependencies.audit.record({ repository, issueNumber: null, commentId: null, actor, command: `Slack: /gantry ${command.text.trim()}`, environment: environment ?? null, decision: "refused", gate, reason });
    return `🛑 ${reason}`;
  };
  if (!identity) return refuse(`slack:${command.userId}`, "identity", "your Slack user is not linked to a GitHub user: run `/gantry link` first.");
  const [, owner = "", repo = ""] = named;
  let installationId: number;
  try {
    installationId = (await (await dependencies.appOctokit()).rest.apps.getRepoInstallation({ owner, repo })).data.id;
  } catch (error) {
    if ((error as { status?: number }).status !== 404) throw error;
    return refuse(identity.githubLogin, "permission", `Gantry is not installed on ${repository}, or it does not exist.`);
  }
  const octokit = await dependencies.octokitFor(installationId);
  const { data } = await octokit.rest.repos.get({ owner, repo });
  const ref = { owner, repo, id: data.id, installationId };
  if (!(await hasReadAccess(octokit, dependencies.permissions, ref, identity.githubLogin))) {
    return refuse(identity.githubLogin, "permission", `@${identity.githubLogin} cannot read ${repository}.`);
  }
  const statuses = (await dependencies.controller.status(ref)).filter((candidate) => environment === undefined || candidate.environment === environment);
  if (statuses.length === 0) return `Nothing has been deployed to ${environment ?? "any environment"} of ${repository}.`;
  return [`*${escapeMrkdwn(repository)}*`, ...statuses.map(statusLine)].join("\n");
}

function statusLine(status: EnvironmentStatus): string {
  const live = status.liveSha ? `\`${shortSha(status.liveSha)}\` live` : "nothing live";
  const running = status.running ? `; deploying \`${shortSha(status.running.sha)}\` (${describePhase(status.running)}, by @${escapeMrkdwn(status.running.requestedBy)})` : "";
  const queued = status.queued.length > 0 ? `; ${status.queued.length} queued` : "";
  const lock = status.lock?.kind === "sticky" ? `; 🔒 locked by @${escapeMrkdwn(status.lock.holder)}` : "";
  return `• *${escapeMrkdwn(status.environment)}*: ${live}, traffic ${describeWeights(status.weights, null)}${running}${queued}${lock}`;
}
