import { z } from "zod";
import { belowWrite } from "./gates/permission.ts";
import { parseComment } from "./parser.ts";
import type { PermissionCache } from "./permission-cache.ts";

/** Commands whose answers tell people traffic moved: they go first in the inbox and in the installation's writes. */
export const MOVES_TRAFFIC: ReadonlySet<string> = new Set(["rollback", "abort"]);

/** The inbox's urgent lane (src/inbox/worker.ts). */
export const URGENT_PRIORITY = 1;

/**
 * A real `issue_comment` payload is well under this (GitHub caps a comment and an issue body at
 * 65,536 characters each); a larger one is not read at the intake and goes in the common lane.
 */
const MAX_READ_CHARS = 512 * 1024;

/** GitHub's hint that the commenter may have write access; the handler still checks the real role. */
const MAY_WRITE: ReadonlySet<string> = new Set(["OWNER", "MEMBER", "COLLABORATOR"]);

const NAMES_A_COMMAND = /\/(?:rollback|abort)\b/iu;

const urgencyFields = z.object({
  action: z.literal("created"),
  comment: z.object({ body: z.string(), author_association: z.string() }),
  repository: z.object({ id: z.number(), name: z.string(), owner: z.object({ login: z.string() }) }),
  installation: z.object({ id: z.number() }),
  sender: z.object({ login: z.string() }),
});

/**
 * The inbox priority of a delivery, decided at the intake: a `/rollback` or `/abort` from someone
 * who may have write access is urgent, so it is handled ahead of any queue of other deliveries
 * (a flood of refused commands, say). Who may: a role looked up within the permission cache's
 * period, else GitHub's `author_association`. A flooder whose role was looked up once is in the
 * common lane from then on, whatever commands they type. Everything else is 0.
 */
export function commentUrgency(permissions: PermissionCache): (event: string, payload: string) => Promise<number> {
  return async (event, payload) => {
    // Most comments name neither command: those are not parsed here at all.
    if (event !== "issue_comment" || payload.length > MAX_READ_CHARS || !NAMES_A_COMMAND.test(payload)) return 0;
    let fields: z.infer<typeof urgencyFields>;
    try {
      const read = urgencyFields.safeParse(JSON.parse(payload));
      if (!read.success) return 0;
      fields = read.data;
    } catch {
      return 0;
    }
    const parsed = parseComment(fields.comment.body);
    if (parsed.kind !== "command" || !MOVES_TRAFFIC.has(parsed.command.name)) return 0;
    const { repository, installation, sender } = fields;
    const repo = { owner: repository.owner.login, repo: repository.name, id: repository.id, installationId: installation.id };
    const role = await permissions.known(repo, sender.login);
    const mayWrite = role === undefined ? MAY_WRITE.has(fields.comment.author_association) : !belowWrite(role);
    return mayWrite ? URGENT_PRIORITY : 0;
  };
}
