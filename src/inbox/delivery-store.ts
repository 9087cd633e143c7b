import { randomUUID } from "node:crypto";
import type { DeliveryStatus } from "../store/schema.ts";
import { GroupCommit } from "../store/group-commit.ts";
import type { Store } from "../store/open-store.ts";

export interface IncomingDelivery {
  id: string;
  event: string;
  payload: string;
}

export type RecordOutcome = "queued" | "duplicate";

type PrioritisedDelivery = IncomingDelivery & { priority: number };

/**
 * Deliveries stored in one transaction at most. The intake's body budget (32 bodies by default)
 * usually bounds a batch first; this keeps a statement's parameters well under SQLite's limit.
 */
const MAX_DELIVERIES_PER_COMMIT = 256;

export interface ClaimedDelivery extends IncomingDelivery {
  attempts: number;
  claimToken: string;
}

/** The durable inbox of webhook deliveries: written before the ack, processed after it. */
export class DeliveryStore {
  readonly #store: Store;
  readonly #now: () => number;
  readonly #inserts: GroupCommit<PrioritisedDelivery, RecordOutcome>;
  readonly #completions: GroupCommit<ClaimedDelivery, void>;

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
    this.#inserts = new GroupCommit({ commit: (deliveries) => this.#insert(deliveries), maxBatch: MAX_DELIVERIES_PER_COMMIT });
    this.#completions = new GroupCommit({ commit: (deliveries) => this.#completeAll(deliveries), maxBatch: MAX_DELIVERIES_PER_COMMIT });
  }

  /**
   * Stores a delivery once; a redelivery of the same id is reported as a duplicate and changes
   * nothing. Resolves only once the delivery is committed: concurrent deliveries share the commit,
   * and when it fails, every one of them is rejected and none is stored. `priority` above 0 puts it
   * in the urgent lane: claimed before every delivery of a lower one.
   */
  record(delivery: IncomingDelivery, priority = 0): Promise<RecordOutcome> {
    return this.#inserts.submit({ ...delivery, priority });
  }

  /** One statement for the whole batch, so it is stored all or nothing. */
  async #insert(deliveries: PrioritisedDelivery[]): Promise<RecordOutcome[]> {
    // The first of several with one id in a batch is the one stored; the others are its duplicates.
    const firsts = new Map<string, number>();
    deliveries.forEach((delivery, index) => {
      if (!firsts.has(delivery.id)) firsts.set(delivery.id, index);
    });
    const now = this.#now();
    const inserted = await this.#store.db
      .insertInto("webhook_deliveries")
      .values(
        [...firsts.values()].map((index) => deliveries[index]!).map(({ id, event, payload, priority }) => ({
          id,
          event,
          payload,
          priority,
          received_at: now,
          status: "pending" as const,
          next_attempt_at: now,
          claim_token: null,
          last_error: null,
          processed_at: null,
        })),
      )
      .onConflict((conflict) => conflict.column("id").doNothing())
      .returning("id")
      .execute();
    const queued = new Set(inserted.map((row) => row.id));
    return deliveries.map((delivery, index) => (firsts.get(delivery.id) === index && queued.has(delivery.id) ? "queued" : "duplicate"));
  }

  /**
   * Claims the most urgent due delivery, the oldest first among equals, for `leaseMs`. If the claimer
   * dies, the delivery becomes due again when the lease runs out, so a crash after the ack loses
   * nothing. `urgentOnly`: only deliveries of priority above 0 (the urgent lane's own claimer).
   */
  async claimNext(leaseMs: number, options: { urgentOnly?: boolean } = {}): Promise<ClaimedDelivery | undefined> {
    const now = this.#now();
    const claimToken = randomUUID();
    // One statement: atomic on SQLite (a write statement takes the write lock up front) and, with
    // SKIP LOCKED in the subquery, free of double claims across PostgreSQL replicas.
    const claimed = await this.#store.db
      .updateTable("webhook_deliveries")
      .set((eb) => ({ claim_token: claimToken, next_attempt_at: now + leaseMs, attempts: eb("attempts", "+", 1) }))
      .where("id", "=", (eb) =>
        this.#store.lockForClaim(
          eb
            .selectFrom("webhook_deliveries")
            .select("id")
            .where("status", "=", "pending")
            .where("next_attempt_at", "<=", now)
            .$if(options.urgentOnly === true, (query) => query.where("priority", ">", 0))
            .orderBy("priority", "desc")
            .orderBy("next_attempt_at")
            .limit(1),
        ),
      )
      .returning(["id", "event", "payload", "attempts"])
      .executeTakeFirst();
    return claimed && { ...claimed, claimToken };
  }

  /** Marks a handled delivery done; the deliveries handled at the same time share one statement. */
  complete(delivery: ClaimedDelivery): Promise<void> {
    return this.#completions.submit(delivery);
  }

  async #completeAll(deliveries: ClaimedDelivery[]): Promise<void[]> {
    // A claim token is set on one row only, so a row matches only through a claim of its own: a
    // claimer whose lease was taken over is fenced out here as in #finish.
    await this.#store.db
      .updateTable("webhook_deliveries")
      .set({ status: "done", processed_at: this.#now(), last_error: null, claim_token: null })
      .where("id", "in", deliveries.map((delivery) => delivery.id))
      .where("claim_token", "in", deliveries.map((delivery) => delivery.claimToken))
      .execute();
    return deliveries.map(() => undefined);
  }

  /** Schedules another attempt at `retryAt`, or gives up (`dead`) when there is none. */
  async fail(delivery: ClaimedDelivery, error: string, retryAt: number | undefined): Promise<void> {
    await this.#finish(
      delivery,
      retryAt === undefined
        ? { status: "dead", processed_at: this.#now(), last_error: error }
        : { status: "pending", next_attempt_at: retryAt, last_error: error },
    );
  }

  /**
   * Deletes up to `limit` deliveries that ended as `status` before `before`, payload and all; returns
   * how many. Rows another replica is deleting are skipped rather than waited for.
   */
  async deleteFinished(status: "done" | "dead", before: number, limit: number): Promise<number> {
    const result = await this.#store.db
      .deleteFrom("webhook_deliveries")
      .where("id", "in", (eb) =>
        this.#store.lockForClaim(
          eb
            .selectFrom("webhook_deliveries")
            .select("id")
            .where("status", "=", status)
            .where("processed_at", "<", before)
            .limit(limit),
        ),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async countByStatus(): Promise<Record<DeliveryStatus, number>> {
    const rows = await this.#store.db
      .selectFrom("webhook_deliveries")
      .select((eb) => ["status", eb.fn.countAll<number>().as("count")])
      .groupBy("status")
      .execute();
    const counts: Record<DeliveryStatus, number> = { pending: 0, done: 0, dead: 0 };
    for (const row of rows) counts[row.status] = Number(row.count);
    return counts;
  }

  async #finish(
    delivery: ClaimedDelivery,
    changes: { status: DeliveryStatus; processed_at?: number; next_attempt_at?: number; last_error: string | null },
  ): Promise<void> {
    // The claim token fences out a claimer whose lease ran out while it was still working.
    await this.#store.db
      .updateTable("webhook_deliveries")
      .set({ ...changes, claim_token: null })
      .where("id", "=", delivery.id)
      .where("claim_token", "=", delivery.claimToken)
      .execute();
  }
}
