import type { AuditLog } from "../audit/audit-log.ts";
import { defaultEnvironmentName, type RepoConfig } from "../config/repo-config.ts";
import type { DeploymentController, DeploymentView, RepoRef } from "../deploy/api.ts";
import { describePhase, describeWeights, shortSha } from "../notify/format.ts";
import type { AuditDecision } from "../store/schema.ts";
import { USAGE, type Command, type CommandOf } from "./command.ts";
import { breakGlassGate } from "./gates/break-glass.ts";
import type { GateContext, Refusal } from "./gates/gate.ts";
import { gatesFor, runGates } from "./gates/run-gates.ts";
import type { Octokit } from "./github.ts";
import { readPullRequest, type PullRequestFacts } from "./pull-request.ts";
import { describeLock, helpReply, invalidReply, refusalReply, statusReply } from "./replies.ts";

/** Where the notifier keeps its GitHub ids: the command's comment gets 🚀 or 👎 when the deployment ends. */
export interface CommandLinks {
  linkCommand(deployment: DeploymentView, link: { commentId: number; issueNumber: number }): Promise<void>;
}

export interface CommandContext {
  octokit: Octokit;
  controller: DeploymentController;
  audit: AuditLog;
  links: CommandLinks;
  repo: RepoRef;
  config: RepoConfig;
  actor: string;
  issueNumber: number;
  isPullRequest: boolean;
  commentId: number;
  /** The command line as typed, for replies and the audit log. */
  line: string;
}

/** What was decided: recorded in the audit log, then replied (null: the status comment is the reply). */
export interface Outcome {
  decision: AuditDecision;
  environment: string | null;
  gate: string | null;
  reason: string;
  reply: string | null;
}

const AUDIT_ENTRIES_IN_STATUS = 5;

export function invalidOutcome(context: CommandContext, problem: string, usage: string, environment: string | null = null): Outcome {
  const environments = Object.keys(context.config.environments);
  return {
    decision: "invalid",
    environment,
    gate: null,
    reason: problem,
    reply: invalidReply(problem, usage, environments, defaultEnvironmentName(context.config)),
  };
}

/** Authorises a parsed command through its gates and carries it out through the controller. */
export async function executeCommand(command: Command, context: CommandContext): Promise<Outcome> {
  const { config } = context;
  const environments = Object.keys(config.environments);
  if (command.name === "help") {
    return { decision: "accepted", environment: null, gate: null, reason: "help shown", reply: helpReply(environments, defaultEnvironmentName(config)) };
  }
  if (command.name === "status") {
    const [statuses, audit] = await Promise.all([
      context.controller.status(context.repo),
      context.audit.recent(`${context.repo.owner}/${context.repo.repo}`, { limit: AUDIT_ENTRIES_IN_STATUS }),
    ]);
    return { decision: "accepted", environment: null, gate: null, reason: "status shown", reply: statusReply(environments, statuses, audit) };
  }

  const environment = command.environment ?? defaultEnvironmentName(config);
  const environmentConfig = environment === undefined ? undefined : config.environments[environment];
  if (environment === undefined || !environmentConfig) {
    const problem = environment === undefined ? "there are no environments to act on" : `there is no environment \`${environment}\``;
    return invalidOutcome(context, problem, USAGE[command.name], environment ?? null);
  }

  const gates = gatesFor(command.name, environmentConfig);
  const gateContext: GateContext = {
    octokit: context.octokit,
    controller: context.controller,
    repo: context.repo,
    actor: context.actor,
    environment,
    environmentConfig,
    requiredChecks: config.ci.requiredChecks,
    sha: null,
    pullRequest: null,
  };
  const refused = (refusal: Refusal): Outcome => ({
    decision: "refused",
    environment,
    gate: refusal.gate,
    reason: refusal.reason,
    reply: refusalReply(context.line, refusal),
  });
  const breaksGlass = command.name === "deploy" && command.force;
  const actorRefusal = await runGates(breaksGlass ? [...gates.actor, breakGlassGate] : gates.actor, gateContext);
  if (actorRefusal) return refused(actorRefusal);
  if (command.name !== "deploy") return act(context, command, environment);

  const pullRequest = context.isPullRequest ? await readPullRequest(context.octokit, context.repo, context.issueNumber) : null;
  const resolved = await commitToDeploy(context, command, pullRequest);
  if ("problem" in resolved) return invalidOutcome(context, resolved.problem, USAGE.deploy, environment);
  const commitRefusal = await runGates(gates.commit, { ...gateContext, sha: resolved.sha, pullRequest });
  if (commitRefusal) return refused(commitRefusal);
  return deploy(context, command, environment, resolved.sha);
}

async function commitToDeploy(
  context: CommandContext,
  command: CommandOf<"deploy">,
  pullRequest: PullRequestFacts | null,
): Promise<{ sha: string } | { problem: string }> {
  if (command.sha === null) {
    return pullRequest ? { sha: pullRequest.headSha } : { problem: "on an issue, name the commit to deploy with --sha" };
  }
  if (command.sha.length === 40) return { sha: command.sha };
  try {
    const { data } = await context.octokit.rest.repos.getCommit({ owner: context.repo.owner, repo: context.repo.repo, ref: command.sha });
    return { sha: data.sha };
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 404 || status === 422) return { problem: `there is no commit ${command.sha} in ${context.repo.owner}/${context.repo.repo}` };
    throw error;
  }
}

async function deploy(context: CommandContext, command: CommandOf<"deploy">, environment: string, sha: string): Promise<Outcome> {
  const base = { environment, gate: null };
  if (command.dryRun) {
    const reason = `dry run: every gate passed; ${shortSha(sha)} would deploy to ${environment}`;
    return { ...base, decision: "accepted", reason, reply: `✅ Dry run: every gate passed. \`/deploy ${environment}\` would ship \`${shortSha(sha)}\`.` };
  }
  const result = await context.controller.start({
    repo: context.repo,
    config: context.config,
    environment,
    sha,
    requestedBy: context.actor,
    pullRequest: context.isPullRequest ? context.issueNumber : null,
    force: command.force,
  });
  if (result.outcome === "refused") {
    return { ...base, decision: "refused", reason: result.reason, reply: `🛑 \`${context.line}\` refused: ${result.reason}` };
  }
  await context.links.linkCommand(result.deployment, { commentId: context.commentId, issueNumber: context.issueNumber });
  const drift = result.forcedOver;
  const forced = drift ? `, with --force over drift (load balancer at ${describeWeights(drift.observed, null)}, Gantry had set ${describeWeights(drift.expected, null)})` : "";
  if (result.outcome === "started") {
    return { ...base, decision: "accepted", reason: `deployment ${result.deployment.id} of ${shortSha(sha)} started${forced}`, reply: null };
  }
  const lock = (await context.controller.status(context.repo)).find((status) => status.environment === environment)?.lock;
  const busy = lock ? describeLock(lock) : "busy with another deployment";
  return {
    ...base,
    decision: "queued",
    reason: `deployment ${result.deployment.id} of ${shortSha(sha)} queued${forced}: ${environment} is ${busy}`,
    reply: `⏳ Queued: ${environment} is ${busy}. \`${shortSha(sha)}\` deploys when it is free; the status comment follows it. \`/abort ${environment} --id ${result.deployment.id.slice(0, 8)}\` cancels it.`,
  };
}

const DONE: Record<"rollback" | "promote" | "abort" | "approve", string> = {
  rollback: "Rolling back",
  promote: "Promoting",
  abort: "Aborting",
  approve: "Approved",
};

async function act(context: CommandContext, command: Exclude<Command, { name: "deploy" | "help" | "status" }>, environment: string): Promise<Outcome> {
  const request = { repo: context.repo, environment, by: context.actor, ...("id" in command && command.id !== null ? { id: command.id } : {}) };
  const refused = (reason: string): Outcome => ({
    decision: "refused",
    environment,
    gate: null,
    reason,
    reply: `🛑 \`${context.line}\` refused: ${reason}`,
  });
  const accepted = (reason: string, reply: string): Outcome => ({ decision: "accepted", environment, gate: null, reason, reply });
  switch (command.name) {
    case "lock": {
      const pullRequest = context.isPullRequest ? context.issueNumber : null;
      const result = await context.controller.lock({ ...request, reason: command.reason ?? undefined, pullRequest });
      if (!result.ok) return refused(result.reason);
      const released = pullRequest === null ? "" : "; so does closing this pull request";
      return accepted(`${environment} locked`, `${describeLock(result.lock)}. \`/unlock ${environment}\` releases it${released}.`);
    }
    case "unlock": {
      const result = await context.controller.unlock(request);
      return result.ok ? accepted(`${environment} unlocked`, `🔓 ${environment} is unlocked.`) : refused(result.reason);
    }
    case "ack-drift": {
      const result = await context.controller.acknowledgeDrift({ ...request, reason: command.reason ?? undefined });
      if (!result.ok) return refused(result.reason);
      const { observed, expected } = result.drift;
      const what = `the load balancer at ${describeWeights(observed, null)} where Gantry had set ${describeWeights(expected, null)}`;
      return accepted(`drift in ${environment} acknowledged: ${what}`, `✅ Drift in ${environment} acknowledged (${what}). Deploys to ${environment} may go ahead.`);
    }
    default: {
      const result = await context.controller[command.name](request);
      if (!result.ok) return refused(result.reason);
      const deployment = result.deployment;
      if (result.alreadyRunning) {
        const running = `deployment \`${deployment.id.slice(0, 8)}\` of \`${shortSha(deployment.sha)}\`, ${describePhase(deployment)}`;
        return accepted(`rollback already running: deployment ${deployment.id}`, `↩️ A rollback is already running in ${environment}: ${running}. Nothing more was asked.`);
      }
      const summary = `${DONE[command.name]} ${environment}: deployment of \`${shortSha(deployment.sha)}\` by @${deployment.requestedBy}, now ${describePhase(deployment)}.`;
      return accepted(`${command.name} of deployment ${deployment.id}`, `✅ ${summary}`);
    }
  }
}
