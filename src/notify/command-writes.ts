import { z } from "zod";
import type { ProbotOctokit } from "probot";
import type { Store } from "../store/open-store.ts";
import { PRIORITY, type GitHubOutbox, type OutboxSubject } from "./outbox-store.ts";
import { createComment } from "./github-writes.ts";

type Octokit = InstanceType<typeof ProbotOctokit>;

const commandWriteSchema = z.discriminatedUnion("write", [
  z.object({ write: z.literal("reaction"), content: z.enum(["eyes", "-1"]) }),
  z.object({ write: z.literal("reply"), body: z.string() }),
]);
export type CommandWrite = z.infer<typeof commandWriteSchema>;

/** The comment a command came in, which its reactions and reply answer. */
const commandTargetSchema = z.object({
  installationId: z.number().int(),
  owner: z.string(),
  repo: z.string(),
  issueNumber: z.number().int(),
  commentId: z.number().int(),
  /** When the command was posted: a reply already sent is looked for from here. */
  postedAt: z.string(),
});
export type CommandTarget = z.infer<typeof commandTargetSchema>;

export const commandChangeSchema = z.object({ target: commandTargetSchema, writes: z.array(commandWriteSchema) });
export type CommandChange = z.infer<typeof commandChangeSchema>;

function commandSubject(target: CommandTarget): OutboxSubject {
  return { key: `command:${target.commentId}`, installationId: target.installationId, kind: "command" };
}

/** Marks a reply as the answer to one command, so a retry can tell that GitHub already took it. */
function replyMarker(commentId: number): string {
  return `<!-- gantry:reply-to ${commentId} -->`;
}

/**
 * The reactions and reply to a comment command, queued in the outbox: the command handler records
 * them and moves on, and the drain sends them in the installation's turn. A rollback's go first.
 */
export class CommandWrites {
  readonly #outbox: GitHubOutbox;
  readonly #wake: () => void;

  constructor(outbox: GitHubOutbox, wake: () => void) {
    this.#outbox = outbox;
    this.#wake = wake;
  }

  /** `within`: the transaction that records the command's step, so the step and its writes are kept together. */
  async record(target: CommandTarget, writes: CommandWrite[], urgent: boolean, within?: Store["db"]): Promise<void> {
    if (writes.length === 0) return;
    const change: CommandChange = { target, writes };
    await this.#outbox.record(commandSubject(target), JSON.stringify(change), urgent ? PRIORITY.trafficMoved : PRIORITY.normal, within);
  }

  /** Tells the drain there is something to send (after the recording transaction committed). */
  wake(): void {
    this.#wake();
  }
}

/**
 * Sends one command's pending writes, oldest first. A reaction is idempotent on GitHub (the same one
 * again returns the existing one); a reply is not, so a retried send (GitHub may have taken it before
 * failing) first looks for its marker and posts only when it is not there.
 */
export async function sendCommandWrites(octokit: Octokit, changes: readonly CommandChange[], retried: boolean): Promise<void> {
  const target = changes.at(-1)?.target;
  if (!target) return;
  const repo = { owner: target.owner, repo: target.repo };
  const sent = new Set<string>();
  for (const write of changes.flatMap((change) => change.writes)) {
    const key = JSON.stringify(write);
    if (sent.has(key)) continue;
    sent.add(key);
    if (write.write === "reaction") {
      await octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: target.commentId, content: write.content });
      continue;
    }
    const marker = replyMarker(target.commentId);
    if (retried && (await alreadyReplied(octokit, target, marker))) continue;
    await createComment(octokit, { ...repo, issue_number: target.issueNumber }, { body: write.body, seeAllAt: "on Gantry's dashboard", trailer: `\n\n${marker}` });
  }
}

async function alreadyReplied(octokit: Octokit, target: CommandTarget, marker: string): Promise<boolean> {
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issueNumber,
    since: target.postedAt,
    per_page: 100,
  });
  return comments.some((candidate) => candidate.body?.includes(marker) === true);
}

/** The drain's sender of command writes, with an installation's Octokit. */
export function commandSender(octokitFor: (installationId: number) => Promise<Octokit>) {
  return async (changes: readonly CommandChange[], retried: boolean): Promise<void> => {
    const target = changes.at(-1)?.target;
    if (target) await sendCommandWrites(await octokitFor(target.installationId), changes, retried);
  };
}
