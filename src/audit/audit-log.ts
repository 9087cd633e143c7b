import { randomBytes } from "node:crypto";
import type { Store } from "../store/open-store.ts";
import type { AuditDecision } from "../store/schema.ts";

export type { AuditDecision };

/** One decision on one command: who, where, what was decided and why. */
export interface AuditEntry {
  at: number;
  /** `owner/repo`. */
  repository: string;
  issueNumber: number | null;
  commentId: number | null;
  actor: string;
  /** The command line as typed. */
  command: string;
  environment: string | null;
  decision: AuditDecision;
  /** The authorisation gate that refused, if one did. */
  gate: string | null;
  reason: string;
}

let sequence = 0;

/**
 * Ids that sort by time, then by order of recording within this process, so entries written in the
 * same millisecond still read back in order.
 */
function sortableId(at: number): string {
  sequence = (sequence + 1) % 0x1000000;
  return `${at.toString(16).padStart(12, "0")}${sequence.toString(16).padStart(6, "0")}${randomBytes(4).toString("hex")}`;
}

/** The audit log of comment commands (and, later, Slack and API actions) in the store. */
export class AuditLog {
  readonly #store: Store;
  readonly #now: () => number;

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  /** `db`: a transaction the entry belongs to, so it is written with the change it records. */
  async record(entry: Omit<AuditEntry, "at">, db: Store["db"] = this.#store.db): Promise<AuditEntry> {
    const at = this.#now();
    await db
      .insertInto("audit_log")
      .values({
        id: sortableId(at),
        at,
        repository: entry.repository,
        issue_number: entry.issueNumber,
        comment_id: entry.commentId,
        actor: entry.actor,
        command: entry.command,
        environment: entry.environment,
        decision: entry.decision,
        gate: entry.gate,
        reason: entry.reason,
      })
      .execute();
    return { ...entry, at };
  }

  /** The newest entries of a repository first; `/status` shows a few, the API pages through more. */
  async recent(repository: string, options: { limit?: number; before?: number } = {}): Promise<AuditEntry[]> {
    let query = this.#store.db.selectFrom("audit_log").selectAll().where("repository", "=", repository);
    if (options.before !== undefined) query = query.where("at", "<", options.before);
    const rows = await query.orderBy("id", "desc").limit(options.limit ?? 20).execute();
    return rows.map((row) => ({
      at: row.at,
      repository: row.repository,
      issueNumber: row.issue_number,
      commentId: row.comment_id,
      actor: row.actor,
      command: row.command,
      environment: row.environment,
      decision: row.decision,
      gate: row.gate,
      reason: row.reason,
    }));
  }
}
