import { randomUUID } from "node:crypto";
import type { DeliveryStatus } from "../store/schema.ts";
import type { Store } from "../store/open-store.ts";

export interface IncomingDelivery {
  id: string;
  event: string;
  payload: string;
}

export interface ClaimedDelivery extends IncomingDelivery {
  attempts: number;
  claimToken: string;
}

/** The durable inbox of webhook deliveries: written before the ack, processed after it. */
export class DeliveryStore {
  readonly #store: Store;
  readonly #now: () => number;

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  /**
   * Stores a delivery once; a redelivery of the same id is reported as a duplicate and changes nothing.
   * `priority` above 0 puts it in the urgent lane: claimed before every delivery of a lower one.
   */
  async record(delivery: IncomingDelivery, priority = 0): Promise<"queued" | "duplicate"> {
    const now = this.#now();
    const inserted = await this.#store.db
      .insertInto("webhook_deliveries")
      .values({
        ...delivery,
        priority,
        received_at: now,
        status: "pending",
        next_attempt_at: now,
        claim_token: null,
        last_error: null,
        processed_at: null,
      })
      .onConflict((conflict) => conflict.column("id").doNothing())
      .returning("id")
      .executeTakeFirst();
    return inserted ? "queued" : "duplicate";
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

  async complete(delivery: ClaimedDelivery): Promise<void> {
    await this.#finish(delivery, { status: "done", processed_at: this.#now(), last_error: null });
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
