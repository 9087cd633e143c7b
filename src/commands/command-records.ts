import { randomUUID } from "node:crypto";
import type { AuditEntry, AuditLog } from "../audit/audit-log.ts";
import type { Store } from "../store/open-store.ts";
import type { CommandStep } from "../store/schema.ts";

/** What `begin` found: a command to work on from its last step, one already answered, or one in hand elsewhere. */
export type Begun<Decision, Outcome> =
  | { kind: "resume"; lease: CommandLease; step: Exclude<CommandStep, "replied">; decision: Decision | null; outcome: Outcome | null }
  | { kind: "replied" }
  /** Another delivery is working on it right now: try again after its lease. */
  | { kind: "busy"; until: number };

export interface CommandLease {
  commentId: number;
  owner: string;
}

/**
 * Durable records of comment commands, keyed by comment id. A command moves received → decided →
 * acted → replied; whoever holds a record's lease works on it, and a retried delivery (or another
 * replica, once the lease has run out) resumes at the last step written. Two deliveries of one
 * comment therefore act once, and a delivery that failed half-way is not lost.
 */
export class CommandRecords<Decision, Outcome> {
  readonly #store: Store;
  readonly #now: () => number;
  readonly #leaseMs: number;

  constructor(store: Store, options: { now?: () => number; leaseMs?: number } = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
    this.#leaseMs = options.leaseMs ?? 120_000;
  }

  async begin(commentId: number, repository: string): Promise<Begun<Decision, Outcome>> {
    const now = this.#now();
    const owner = randomUUID();
    const lease = { lease_owner: owner, lease_until: now + this.#leaseMs, updated_at: now };
    const row =
      (await this.#store.db
        .insertInto("command_records")
        .values({ comment_id: commentId, repository, step: "received", decision: null, outcome: null, received_at: now, ...lease })
        .onConflict((conflict) => conflict.column("comment_id").doNothing())
        .returningAll()
        .executeTakeFirst()) ??
      (await this.#store.db
        .updateTable("command_records")
        .set(lease)
        .where("comment_id", "=", commentId)
        .where("step", "!=", "replied")
        .where("lease_until", "<", now)
        .returningAll()
        .executeTakeFirst());
    if (row) {
      return {
        kind: "resume",
        lease: { commentId, owner },
        step: row.step as Exclude<CommandStep, "replied">,
        decision: row.decision === null ? null : (JSON.parse(row.decision) as Decision),
        outcome: row.outcome === null ? null : (JSON.parse(row.outcome) as Outcome),
      };
    }
    const current = await this.#store.db.selectFrom("command_records").select(["step", "lease_until"]).where("comment_id", "=", commentId).executeTakeFirstOrThrow();
    return current.step === "replied" ? { kind: "replied" } : { kind: "busy", until: Number(current.lease_until) };
  }

  decided(lease: CommandLease, decision: Decision): Promise<void> {
    return this.#advance(this.#store.db, lease, { step: "decided", decision: JSON.stringify(decision) });
  }

  /** The outcome and its audit entry are written together: a resumed command audits once. */
  async acted(lease: CommandLease, outcome: Outcome, audit: AuditLog, entry: Omit<AuditEntry, "at">): Promise<void> {
    await this.#store.db.transaction().execute(async (trx) => {
      await this.#advance(trx, lease, { step: "acted", outcome: JSON.stringify(outcome) });
      await audit.record(entry, trx);
    });
  }

  /** `alongside`: what else the step writes in its transaction (the reply, into the outbox). */
  async replied(lease: CommandLease, alongside?: (trx: Store["db"]) => Promise<void>): Promise<void> {
    await this.#store.db.transaction().execute(async (trx) => {
      await this.#advance(trx, lease, { step: "replied", lease_owner: null, lease_until: 0 });
      await alongside?.(trx);
    });
  }

  /** Lets a retried delivery resume at once instead of waiting for the lease to run out. */
  async release(lease: CommandLease): Promise<void> {
    await this.#store.db
      .updateTable("command_records")
      .set({ lease_owner: null, lease_until: 0 })
      .where("comment_id", "=", lease.commentId)
      .where("lease_owner", "=", lease.owner)
      .execute();
  }

  async #advance(
    db: Store["db"],
    lease: CommandLease,
    change: { step: CommandStep; decision?: string; outcome?: string; lease_owner?: null; lease_until?: number },
  ): Promise<void> {
    const result = await db
      .updateTable("command_records")
      .set({ ...change, updated_at: this.#now() })
      .where("comment_id", "=", lease.commentId)
      .where("lease_owner", "=", lease.owner)
      .executeTakeFirst();
    // Past its lease another delivery may have resumed the command: stop rather than act twice.
    if (Number(result.numUpdatedRows) !== 1) throw new Error(`lost the lease on command ${lease.commentId}; another delivery resumes it`);
  }
}
