import type { Context } from "probot";
import type { AuditLog } from "../audit/audit-log.ts";
import { loadRepoConfig } from "../config/load-repo-config.ts";
import { repoConfigSchema, REPO_CONFIG_PATH } from "../config/repo-config.ts";
import type { DeploymentController } from "../deploy/api.ts";
import type { Store } from "../store/open-store.ts";
import { claimComment } from "./comment-claims.ts";
import { executeCommand, invalidOutcome, type CommandLinks, type Outcome } from "./execute-command.ts";
import { commandLine, parseComment } from "./parser.ts";

export interface ChatOpsDependencies {
  store: Store;
  controller: DeploymentController;
  audit: AuditLog;
  links: CommandLinks;
  now?: () => number;
}

type CommentContext = Context<"issue_comment.created">;

/**
 * `issue_comment.created`: parse, claim the comment once, 👀, authorise, act, audit, reply.
 * Edits and deletions are not subscribed to, so they never act; comments by bots are ignored.
 */
export function commentHandler(dependencies: ChatOpsDependencies) {
  const now = dependencies.now ?? Date.now;
  return async (context: CommentContext): Promise<void> => {
    const { comment, issue, repository } = context.payload;
    if (context.isBot || comment.user?.type === "Bot") return;
    const parsed = parseComment(comment.body);
    if (parsed.kind === "none") return;
    const claimed = await claimComment(dependencies.store, { commentId: comment.id, repository: repository.full_name, at: now() });
    if (!claimed) return;

    await react(context, "eyes");
    const line = commandLine(comment.body)!.trim();
    let outcome: Outcome;
    try {
      outcome = await decide(context, dependencies, parsed, line);
    } catch (error) {
      context.log.error({ err: error, comment: comment.html_url }, "command failed");
      const reason = error instanceof Error ? error.message : String(error);
      outcome = {
        decision: "failed",
        environment: null,
        gate: null,
        reason,
        reply: `💥 \`${line}\` failed: ${reason}. Nothing else was done; comment the command again to retry.`,
      };
    }
    await dependencies.audit.record({
      repository: repository.full_name,
      issueNumber: issue.number,
      commentId: comment.id,
      actor: context.payload.sender.login,
      command: line,
      environment: outcome.environment,
      decision: outcome.decision,
      gate: outcome.gate,
      reason: outcome.reason,
    });
    if (outcome.reply !== null) await context.octokit.rest.issues.createComment(context.issue({ body: outcome.reply }));
    if (outcome.decision !== "accepted" && outcome.decision !== "queued") await react(context, "-1");
  };
}

async function decide(
  context: CommentContext,
  dependencies: ChatOpsDependencies,
  parsed: Exclude<ReturnType<typeof parseComment>, { kind: "none" }>,
  line: string,
): Promise<Outcome> {
  const { comment, issue, repository, installation } = context.payload;
  // Config from the default branch: a pull request must not be able to loosen its own gates.
  const loaded = await loadRepoConfig(context.octokit, { ...context.repo(), ref: repository.default_branch });
  if (loaded.status === "invalid") {
    const reason = `${REPO_CONFIG_PATH} on ${repository.default_branch} is invalid; the gantry/config check shows where`;
    return { decision: "refused", environment: null, gate: "config", reason, reply: `🛑 ${reason}.` };
  }
  const commandContext = {
    octokit: context.octokit,
    controller: dependencies.controller,
    audit: dependencies.audit,
    links: dependencies.links,
    repo: { owner: repository.owner.login, repo: repository.name, id: repository.id, installationId: installation!.id },
    config: loaded.status === "valid" ? loaded.config : repoConfigSchema.parse({ environments: {} }),
    actor: context.payload.sender.login,
    issueNumber: issue.number,
    isPullRequest: issue.pull_request !== undefined,
    commentId: comment.id,
    line,
  };
  if (parsed.kind === "invalid") return invalidOutcome(commandContext, parsed.problem, parsed.usage);
  return executeCommand(parsed.command, commandContext);
}

async function react(context: CommentContext, content: "eyes" | "-1"): Promise<void> {
  await context.octokit.rest.reactions.createForIssueComment(context.repo({ comment_id: context.payload.comment.id, content }));
}
