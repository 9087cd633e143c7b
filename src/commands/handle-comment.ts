import type { Context } from "probot";
import { z } from "zod";
import type { AuditLog } from "../audit/audit-log.ts";
import { loadRepoConfig } from "../config/load-repo-config.ts";
import { repoConfigSchema, REPO_CONFIG_PATH } from "../config/repo-config.ts";
import type { DeploymentController } from "../deploy/api.ts";
import type { CommandTarget, CommandWrite, CommandWrites } from "../notify/command-writes.ts";
import { publicErrorText, quoteUserText } from "../notify/public-text.ts";
import { payloadFields } from "../inbox/invalid-payload.ts";
import type { Store } from "../store/open-store.ts";
import { CommandRecords } from "./command-records.ts";
import { actOn, decideCommand, invalidOutcome, type CommandContext, type CommandLinks, type Decision, type Outcome } from "./execute-command.ts";
import { DEFAULT_RETRY_POLICY, isTransient, withRetry, type RetryPolicy } from "./github-retry.ts";
import { belowWrite } from "./gates/permission.ts";
import { commandLine, parseComment } from "./parser.ts";
import { PermissionCache } from "./permission-cache.ts";
import { RefusalLimit } from "./refusal-limit.ts";
import { MOVES_TRAFFIC } from "./urgency.ts";

export interface ChatOpsDependencies {
  store: Store;
  controller: DeploymentController;
  audit: AuditLog;
  links: CommandLinks;
  /** Where reactions and replies go: the outbox, which sends them in the installation's turn. */
  writes: CommandWrites;
  /** Gantry's own GitHub App id: only its check runs count as `gantry/test`. */
  appId: number;
  now?: () => number;
  /** How GitHub reads on the command path are retried; tests pass one that does not wait. */
  retry?: RetryPolicy;
  /** Roles looked up recently; shared with the intake's urgency check (src/commands/urgency.ts). */
  permissions?: PermissionCache;
}

type CommentContext = Context<"issue_comment.created">;

/** GitHub refuses comment bodies longer than this, so a longer one did not come from GitHub. */
const MAX_COMMENT_BODY_CHARS = 65_536;
const login = z.string().min(1).max(100);

/** The fields of `issue_comment.created` this handler and the command path use. */
export const commentEventFields = z.object({
  comment: z.object({
    id: z.number().int().positive(),
    body: z.string().max(MAX_COMMENT_BODY_CHARS),
    user: z.object({ type: z.string().max(100) }).nullable(),
    html_url: z.string().max(2_000),
    created_at: z.string().max(100),
  }),
  issue: z.object({ number: z.number().int().positive(), pull_request: z.object({}).optional() }),
  repository: z.object({
    id: z.number().int().positive(),
    name: z.string().min(1).max(100),
    full_name: z.string().min(3).max(200),
    default_branch: z.string().min(1).max(255),
    owner: z.object({ login }),
  }),
  installation: z.object({ id: z.number().int().positive() }),
  sender: z.object({ login, type: z.string().max(100) }),
});

/** Just the comment's text: what tells a command from conversation. */
const commentBodyField = z.object({ comment: z.object({ body: z.string().max(MAX_COMMENT_BODY_CHARS) }) });

/**
 * Whether a comment may be a command (or a mistyped one, which gets the right form in reply), read
 * from the parsed payload before Probot builds a context and an installation Octokit for it. Most
 * comments are conversation, and that Octokit was most of what the inbox kept alive per delivery.
 * A payload this cannot read goes to the handler, which validates it and says what is missing.
 */
export function commentMayBeCommand(payload: unknown): boolean {
  const read = commentBodyField.safeParse(payload);
  return !read.success || parseComment(read.data.comment.body).kind !== "none";
}

/**
 * `issue_comment.created`: a durable command record moves received → decided → acted → replied.
 * A retried delivery resumes at the last step written, so a command is neither lost nor done twice.
 * Reactions and replies never wait on GitHub: they are recorded in the outbox (the reply in the same
 * transaction as the step "replied") and sent in the installation's turn, a rollback's first. So a
 * GitHub that refuses writes can neither lose a command nor hold up the inbox.
 * Edits and deletions are not subscribed to, so they never act; comments by bots are ignored.
 */
export function commentHandler(dependencies: ChatOpsDependencies) {
  const records = new CommandRecords<Decision, Outcome>(dependencies.store, dependencies.now ? { now: dependencies.now } : {});
  const retry = dependencies.retry ?? DEFAULT_RETRY_POLICY;
  const clock = dependencies.now ? { now: dependencies.now } : {};
  const limits: CommandLimits = { permissions: dependencies.permissions ?? new PermissionCache(clock), refusals: new RefusalLimit(dependencies.store, clock) };
  return async (context: CommentContext): Promise<void> => {
    payloadFields(commentEventFields, context);
    const { comment, issue, repository } = context.payload;
    if (context.isBot || comment.user?.type === "Bot") return;
    const parsed = parseComment(comment.body);
    if (parsed.kind === "none") return;
    const begun = await records.begin(comment.id, repository.full_name);
    if (begun.kind === "replied") return;
    // Thrown, not dropped: the delivery is retried and resumes once the other one's lease ends.
    if (begun.kind === "busy") throw new Error(`command ${comment.id} is being handled elsewhere until ${new Date(begun.until).toISOString()}`);

    const { lease } = begun;
    const line = commandLine(comment.body)!.trim();
    const target = commandTarget(context);
    const urgent = MOVES_TRAFFIC.has(parsed.kind === "invalid" ? parsed.name : parsed.command.name);
    try {
      let { decision, outcome } = begun;
      if (begun.step === "received") {
        decision = (await quietRefusal(context, limits, parsed)) ?? null;
        if (!decision) {
          await dependencies.writes.record(target, [{ write: "reaction", content: "eyes" }], urgent);
          dependencies.writes.wake();
          decision = await limitRefusals(context, limits.refusals, await decideOrFail(context, dependencies, limits.permissions, retry, parsed, line));
        }
        await records.decided(lease, decision);
      }
      if (outcome === null) {
        outcome = await actOn(decision!, actContext(context, dependencies, line));
        await records.acted(lease, outcome, dependencies.audit, {
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
      }
      await records.replied(lease, (trx) => dependencies.writes.record(target, answer(outcome), urgent, trx));
      dependencies.writes.wake();
    } finally {
      await records.release(lease);
    }
  };
}

interface CommandLimits {
  permissions: PermissionCache;
  refusals: RefusalLimit;
}

type ParsedComment = Exclude<ReturnType<typeof parseComment>, { kind: "none" }>;

/**
 * A command from a user past the refusal limit that is sure to be refused again, decided before
 * anything is looked up: invalid, or needing write access that the user was found not to have
 * within the permission cache's period. Audited; no reply, no reaction.
 */
async function quietRefusal(context: CommentContext, limits: CommandLimits, parsed: ParsedComment): Promise<Decision | undefined> {
  const { repository, installation, sender } = context.payload;
  if (!(await limits.refusals.exhausted(repository.full_name, sender.login))) return undefined;
  const quiet = { environment: null, reply: null, quiet: true } as const;
  const unanswered = "; not answered: refusal limit reached";
  if (parsed.kind === "invalid") return { kind: "done", outcome: { ...quiet, decision: "invalid", gate: null, reason: `${parsed.problem}${unanswered}` } };
  if (parsed.command.name === "help" || parsed.command.name === "status") return undefined;
  const repo = { owner: repository.owner.login, repo: repository.name, id: repository.id, installationId: installation!.id };
  const role = await limits.permissions.known(repo, sender.login);
  if (role === undefined || !belowWrite(role)) return undefined;
  const reason = `@${sender.login} has ${role} access to ${repository.full_name}; every environment needs write or more${unanswered}`;
  return { kind: "done", outcome: { ...quiet, decision: "refused", gate: "permission", reason } };
}

/** Refusals take a reply from the user's limit: the first says so, and past the limit they go quiet. */
async function limitRefusals(context: CommentContext, refusals: RefusalLimit, decision: Decision): Promise<Decision> {
  if (decision.kind !== "done") return decision;
  const { outcome } = decision;
  if ((outcome.decision !== "refused" && outcome.decision !== "invalid") || outcome.reply === null) return decision;
  const { repository, sender } = context.payload;
  const taken = await refusals.take(repository.full_name, sender.login, outcome.decision);
  if (taken === "first") return { kind: "done", outcome: { ...outcome, reply: `${outcome.reply}\n\n${refusals.notice(sender.login)}` } };
  if (taken === "quiet") return { kind: "done", outcome: { ...outcome, reply: null, quiet: true, reason: `${outcome.reason}; not answered: refusal limit reached` } };
  return decision;
}

/**
 * Decides with GitHub's reads retried. When GitHub keeps failing, the delivery fails too and is
 * retried later; any other error is answered as a failure, which is true: nothing was acted on yet.
 */
async function decideOrFail(
  context: CommentContext,
  dependencies: ChatOpsDependencies,
  permissions: PermissionCache,
  retry: RetryPolicy,
  parsed: ParsedComment,
  line: string,
): Promise<Decision> {
  try {
    return await withRetry(retry, () => decide(context, dependencies, permissions, parsed, line));
  } catch (error) {
    if (isTransient(error)) throw error;
    context.log.error({ err: error, comment: context.payload.comment.html_url }, "command failed");
    // The audit log keeps the full text; the comment shows the public one.
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const reply = `💥 ${quoteUserText(line)} failed: ${publicErrorText(error)}. Nothing was done; comment the command again to retry.`;
    return { kind: "done", outcome: { decision: "failed", environment: null, gate: null, reason, reply } };
  }
}

async function decide(
  context: CommentContext,
  dependencies: ChatOpsDependencies,
  permissions: PermissionCache,
  parsed: ParsedComment,
  line: string,
): Promise<Decision> {
  const { repository } = context.payload;
  // Config from the default branch: a pull request must not be able to loosen its own gates.
  const loaded = await loadRepoConfig(context.octokit, { ...context.repo(), ref: repository.default_branch });
  if (loaded.status === "invalid") {
    const reason = `${REPO_CONFIG_PATH} on ${repository.default_branch} is invalid; the gantry/config check shows where`;
    const howToPass = `Fix ${REPO_CONFIG_PATH} on ${repository.default_branch} as the gantry/config check says, then comment again.`;
    return { kind: "done", outcome: { decision: "refused", environment: null, gate: "config", reason, reply: `🛑 ${reason}.\n\nTo pass: ${howToPass}` } };
  }
  const commandContext: CommandContext = {
    ...actContext(context, dependencies, line),
    octokit: context.octokit,
    permissions,
    audit: dependencies.audit,
    config: loaded.status === "valid" ? loaded.config : repoConfigSchema.parse({ environments: {} }),
    appId: dependencies.appId,
    defaultBranch: repository.default_branch,
  };
  if (parsed.kind === "invalid") return { kind: "done", outcome: invalidOutcome(commandContext, parsed.problem, parsed.usage) };
  return decideCommand(parsed.command, commandContext);
}

function actContext(context: CommentContext, dependencies: ChatOpsDependencies, line: string) {
  const { comment, issue, repository, installation } = context.payload;
  return {
    controller: dependencies.controller,
    links: dependencies.links,
    repo: { owner: repository.owner.login, repo: repository.name, id: repository.id, installationId: installation!.id },
    actor: context.payload.sender.login,
    issueNumber: issue.number,
    isPullRequest: issue.pull_request !== undefined,
    commentId: comment.id,
    line,
  };
}

function commandTarget(context: CommentContext): CommandTarget {
  const { comment, issue, repository, installation } = context.payload;
  return {
    installationId: installation!.id,
    owner: repository.owner.login,
    repo: repository.name,
    issueNumber: issue.number,
    commentId: comment.id,
    postedAt: comment.created_at,
  };
}

/** The reply to a command, and 👎 when it did not go ahead (none for a refusal past the limit: it stays quiet). */
function answer(outcome: Outcome): CommandWrite[] {
  const reply: CommandWrite[] = outcome.reply === null ? [] : [{ write: "reply", body: outcome.reply }];
  const refused = outcome.decision !== "accepted" && outcome.decision !== "queued" && outcome.quiet !== true;
  return refused ? [...reply, { write: "reaction", content: "-1" }] : reply;
}
