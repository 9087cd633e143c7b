import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import type { Store } from "../store/open-store.ts";
import type { OutboxKind } from "../store/schema.ts";

/** Traffic-moved news (a rollback, its outcome) goes out before anything else. */
export const PRIORITY = { normal: 1, trafficMoved: 2 } as const;

export interface OutboxSubject {
  /** What the writes are about, e.g. `deployment:<id>`: one replica at a time sends them. */
  key: string;
  installationId: number;
  kind: OutboxKind;
}

export interface ClaimedSubject extends OutboxSubject {
  attempts: number;
  claimToken: string;
  /** Payloads pending at the claim, oldest first. */
  changes: string[];
  /** The last change read: completing deletes up to here, so a change recorded meanwhile is kept. */
  upToSeq: number;
}

/**
 * The durable queue of writes to GitHub. Recording is one short transaction; a drain claims a subject
 * (lease with a claim token, as the webhook inbox does), sends its pending changes merged, and
 * completes them. A change not completed (crash, error) is sent again after the lease or the backoff.
 */
export class GitHubOutbox {
  readonly #store: Store;
  readonly #now: () => number;

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  /** `within`: a transaction of the caller's, so the write is recorded with the change it reports. */
  async record(subject: OutboxSubject, payload: string, priority: number, within?: Store["db"]): Promise<void> {
    if (within) return this.#insert(within, subject, payload, priority);
    await this.#store.db.transaction().execute((trx) => this.#insert(trx, subject, payload, priority));
  }

  async #insert(trx: Store["db"], subject: OutboxSubject, payload: string, priority: number): Promise<void> {
    const now = this.#now();
    // A subject that is claimed or backing off keeps its schedule: the claimer sees the new change
    // when it completes, and Retry-After is honoured.
    await trx
      .insertInto("github_outbox")
      .values({
        subject: subject.key,
        installation_id: subject.installationId,
        kind: subject.kind,
        priority,
        next_attempt_at: now,
        claim_token: null,
        lease_owner: null,
        last_error: null,
        created_at: now,
      })
      .onConflict((conflict) =>
        conflict.column("subject").doUpdateSet({
          priority: sql<number>`case when excluded.priority > github_outbox.priority then excluded.priority else github_outbox.priority end`,
        }),
      )
      .execute();
    await trx.insertInto("github_outbox_changes").values({ subject: subject.key, priority, payload, recorded_at: now }).execute();
  }

  /**
   * Claims the most urgent due subject with pending changes for `leaseMs`, with those changes. One
   * subject per installation is in flight at a time (on every replica): an installation's backlog
   * holds one drain slot, never all of them, and its writes never run concurrently. Installations GitHub
   * told to wait, and those in `skipInstallations` (their pacing windows are full), are passed over.
   */
  async claimNext(owner: string, leaseMs: number, skipInstallations: readonly number[] = []): Promise<ClaimedSubject | undefined> {
    const now = this.#now();
    const claimToken = randomUUID();
    const claimed = await this.#store.db
      .updateTable("github_outbox")
      .set((eb) => ({ claim_token: claimToken, lease_owner: owner, next_attempt_at: now + leaseMs, attempts: eb("attempts", "+", 1) }))
      .where("subject", "=", (eb) =>
        this.#store.lockForClaim(
          eb
            .selectFrom("github_outbox")
            .select("subject")
            .where("next_attempt_at", "<=", now)
            .where((inner) => inner.exists(inner.selectFrom("github_outbox_changes").select("seq").whereRef("github_outbox_changes.subject", "=", "github_outbox.subject")))
            .where((inner) =>
              inner.not(
                inner.exists(
                  inner
                    .selectFrom("github_outbox as busy")
                    .select("busy.subject")
                    .whereRef("busy.installation_id", "=", "github_outbox.installation_id")
                    .where("busy.claim_token", "is not", null)
                    .where("busy.next_attempt_at", ">", now),
                ),
              ),
            )
            .where((inner) =>
              inner.not(
                inner.exists(
                  inner
                    .selectFrom("github_installations")
                    .select("github_installations.installation_id")
                    .whereRef("github_installations.installation_id", "=", "github_outbox.installation_id")
                    .where("github_installations.blocked_until", ">", now),
                ),
              ),
            )
            .$if(skipInstallations.length > 0, (query) => query.where("installation_id", "not in", [...skipInstallations]))
            .orderBy("priority", "desc")
            .orderBy("next_attempt_at")
            .limit(1),
        ),
      )
      .where("next_attempt_at", "<=", now)
      .returning(["subject", "installation_id", "kind", "attempts"])
      .executeTakeFirst();
    if (!claimed) return undefined;
    const changes = await this.#store.db
      .selectFrom("github_outbox_changes")
      .select(["seq", "payload"])
      .where("subject", "=", claimed.subject)
      .orderBy("seq")
      .execute();
    return {
      key: claimed.subject,
      installationId: Number(claimed.installation_id),
      kind: claimed.kind,
      attempts: claimed.attempts,
      claimToken,
      changes: changes.map((change) => change.payload),
      upToSeq: Number(changes.at(-1)?.seq ?? 0),
    };
  }

  /** The claimed changes reached GitHub: delete them; the subject is due again for any newer one. */
  async complete(claim: ClaimedSubject): Promise<boolean> {
    return this.#store.db.transaction().execute(async (trx) => {
      const released = await trx
        .updateTable("github_outbox")
        .set({
          claim_token: null,
          lease_owner: null,
          next_attempt_at: this.#now(),
          attempts: 0,
          last_error: null,
          priority: (eb) =>
            eb.fn.coalesce(
              eb
                .selectFrom("github_outbox_changes")
                .select((inner) => inner.fn.max("priority").as("priority"))
                .where("subject", "=", claim.key)
                .where("seq", ">", claim.upToSeq),
              eb.lit(PRIORITY.normal),
            ),
        })
        .where("subject", "=", claim.key)
        .where("claim_token", "=", claim.claimToken)
        .executeTakeFirst();
      // A claimer whose lease ran out leaves the changes to the one that took over.
      if (Number(released.numUpdatedRows) !== 1) return false;
      await trx.deleteFrom("github_outbox_changes").where("subject", "=", claim.key).where("seq", "<=", claim.upToSeq).execute();
      return true;
    });
  }

  /** Sending failed: keep the changes and try again at `retryAt` (a backoff, or when GitHub said). */
  async retry(claim: ClaimedSubject, retryAt: number, error: string): Promise<void> {
    await this.#store.db
      .updateTable("github_outbox")
      .set({ claim_token: null, lease_owner: null, next_attempt_at: retryAt, last_error: error })
      .where("subject", "=", claim.key)
      .where("claim_token", "=", claim.claimToken)
      .execute();
  }

  /** GitHub said to wait: no replica writes for the installation before `until` (a later block stands). */
  async blockInstallation(installationId: number, until: number, reason: string): Promise<void> {
    await this.#store.db
      .insertInto("github_installations")
      .values({ installation_id: installationId, blocked_until: until, reason })
      .onConflict((conflict) =>
        conflict.column("installation_id").doUpdateSet({
          blocked_until: sql<number>`case when excluded.blocked_until > github_installations.blocked_until then excluded.blocked_until else github_installations.blocked_until end`,
          reason,
        }),
      )
      .execute();
  }

  /** Changes not yet acknowledged by GitHub. */
  async pendingCount(): Promise<number> {
    const row = await this.#store.db
      .selectFrom("github_outbox_changes")
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }
}
