import { sql, type RawBuilder } from "kysely";
import type { ProbotOctokit } from "probot";
import type { Store } from "../store/open-store.ts";

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface WriteLimit {
  max: number;
  perMs: number;
}

/**
 * GitHub's secondary limits on requests that create content, for one installation: no more than 80
 * a minute and 500 an hour ("Rate limits for the REST API", docs.github.com). Every write (POST,
 * PATCH, PUT, DELETE) is counted as one, which is the cautious reading.
 */
export const GITHUB_WRITE_LIMITS: readonly WriteLimit[] = [
  { max: 80, perMs: 60_000 },
  { max: 500, perMs: 3_600_000 },
];

const WRITE_METHODS = new Set(["POST", "PATCH", "PUT", "DELETE"]);

/** A write would have to wait longer than a claim should be held: the drain gives the subject back until `until`. */
export class PacedError extends Error {
  readonly until: number;
  constructor(installationId: number, until: number) {
    super(`installation ${installationId} has used its GitHub writes for now; next at ${new Date(until).toISOString()}`);
    this.name = "PacedError";
    this.until = until;
  }
}

/** Old writes are deleted at most this often per replica, in batches of `PRUNE_BATCH`, so each delete is short. */
const PRUNE_EVERY_MS = 60_000;
const PRUNE_BATCH = 500;

/**
 * Counts the writes per installation in sliding windows, in the store, so that all replicas together
 * keep to the limits, and says when the next may go. The outbox drain skips an installation whose
 * windows are full (so it holds no claim while it waits), and each write waits for its slot before
 * it is sent.
 *
 * An installation's writes are numbered in order (table `github_writes`). Write n may go once write
 * n − max of each window has left it; so each write records when the next may go (`next_at`), and a
 * write takes its number with one conditional insert that checks its predecessor's `next_at`: two
 * replicas cannot take the same number, and the one that loses tries the next.
 */
export class InstallationPacer {
  readonly #store: Store;
  readonly #limits: readonly WriteLimit[];
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #paced = new WeakSet<object>();
  readonly #maxWaitMs: number;
  readonly #sleepers = new Set<() => void>();
  #stopped = false;
  #prunedAt = -Infinity;

  /** `maxWaitMs`: a write waits this long for its slot at most (well within the outbox lease), else PacedError. */
  constructor(
    store: Store,
    options: { limits?: readonly WriteLimit[]; now?: () => number; sleep?: (ms: number) => Promise<void>; maxWaitMs?: number } = {},
  ) {
    this.#store = store;
    this.#limits = options.limits ?? GITHUB_WRITE_LIMITS;
    this.#maxWaitMs = options.maxWaitMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** When the installation may send its next write: now, or when its oldest write in a full window ages out. */
  async nextSlot(installationId: number): Promise<number> {
    const now = this.#now();
    const latest = await this.#store.db
      .selectFrom("github_writes")
      .select("next_at")
      .where("installation_id", "=", installationId)
      .orderBy("seq", "desc")
      .limit(1)
      .executeTakeFirst();
    return Math.max(now, latest?.next_at ?? now);
  }

  /** Installations that may not write now, on any replica's count. */
  async waiting(): Promise<number[]> {
    const rows = await this.#store.db
      .selectFrom("github_writes")
      .select("installation_id")
      .distinct()
      .where("next_at", ">", this.#now())
      .execute();
    return rows.map((row) => Number(row.installation_id));
  }

  /**
   * Waits for the installation's next slot, then counts a write in it; throws PacedError when that is
   * too far off, or once the pacer is stopped.
   */
  async take(installationId: number): Promise<void> {
    const start = this.#now();
    await this.#pruneIfDue(start);
    while (!(await this.#takeNow(installationId))) {
      // Held by the windows, or another replica took the number first (then the slot is now: try again).
      const slot = await this.nextSlot(installationId);
      if (slot - start > this.#maxWaitMs || (this.#stopped && slot > this.#now())) throw new PacedError(installationId, slot);
      if (slot <= this.#now()) continue;
      await this.#sleepUnlessStopped(slot - this.#now());
      if (this.#stopped) throw new PacedError(installationId, await this.nextSlot(installationId));
    }
  }

  /**
   * For a replica that is stopping: a write waiting for its slot, and any later one that would wait,
   * throws PacedError, so the drain gives its subject back until the slot instead of holding the
   * shutdown (and the claim) that long.
   */
  stop(): void {
    this.#stopped = true;
    for (const wake of this.#sleepers) wake();
  }

  #sleepUnlessStopped(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.#sleepers.delete(wake);
        resolve();
      };
      this.#sleepers.add(wake);
      void this.#sleep(ms).then(wake);
    });
  }

  /** Makes every write `octokit` sends wait for the installation's slot. */
  pace(octokit: Octokit, installationId: number): Octokit {
    if (this.#paced.has(octokit)) return octokit;
    this.#paced.add(octokit);
    octokit.hook.before("request", async (options) => {
      // The installation token Octokit asks for on its way is the app's request, not the installation's write.
      const tokenRequest = String(options.url).endsWith("/access_tokens");
      if (WRITE_METHODS.has(String(options.method).toUpperCase()) && !tokenRequest) await this.take(installationId);
    });
    return octokit;
  }

  /** Counts a write now if the installation's windows allow one: whether it did. */
  async #takeNow(installationId: number): Promise<boolean> {
    const now = this.#now();
    const taken = await sql<{ seq: number }>`
      insert into github_writes (installation_id, seq, sent_at, next_at)
      select cast(${installationId} as bigint), latest.seq + 1, cast(${now} as bigint), ${this.#nextAfterTaking(installationId, now)}
      from (select coalesce(max(seq), 0) as seq from github_writes where installation_id = ${installationId}) latest
      where not exists (
        select 1 from github_writes held
        where held.installation_id = ${installationId} and held.seq = latest.seq and held.next_at > ${now}
      )
      on conflict do nothing
      returning seq`.execute(this.#store.db);
    return taken.rows.length > 0;
  }

  /**
   * When the write after the one taken now (number latest.seq + 1) may go: once, in each window, the
   * write `max` places before it has left the window. A write no longer stored left every window.
   */
  #nextAfterTaking(installationId: number, now: number): RawBuilder<number> {
    // A window of one write is full with the write taken now.
    const floor = sql<number>`cast(${Math.max(now, ...this.#limits.filter((limit) => limit.max === 1).map((limit) => now + limit.perMs))} as bigint)`;
    // Windows decided by an earlier, stored write; longer ones first: should two name the same write, the later slot counts.
    const reachingBack = this.#limits.filter((limit) => limit.max > 1).toSorted((a, b) => b.perMs - a.perMs);
    if (reachingBack.length === 0) return floor;
    const placeOf = (limit: WriteLimit) => sql`latest.seq - ${sql.lit(limit.max - 2)}`;
    const leavesAt = sql`w.sent_at + case w.seq ${sql.join(
      reachingBack.map((limit) => sql`when ${placeOf(limit)} then ${sql.lit(limit.perMs)}`),
      sql` `,
    )} end`;
    return sql<number>`coalesce((
      select max(${leavesAt}) from github_writes w
      where w.installation_id = ${installationId} and w.seq in (${sql.join(reachingBack.map(placeOf))}) and ${leavesAt} > ${floor}
    ), ${floor})`;
  }

  /** Deletes writes that have left every window, but each installation's latest, which carries its numbering on. */
  async #pruneIfDue(now: number): Promise<void> {
    if (now - this.#prunedAt < PRUNE_EVERY_MS) return;
    this.#prunedAt = now;
    const before = now - Math.max(...this.#limits.map((limit) => limit.perMs));
    for (;;) {
      const deleted = await this.#store.db
        .deleteFrom("github_writes")
        .where((eb) =>
          eb(
            eb.refTuple("installation_id", "seq"),
            "in",
            eb
              .selectFrom("github_writes as old")
              .select(["old.installation_id", "old.seq"])
              .where("old.sent_at", "<", before)
              .where((inner) =>
                inner.exists(
                  inner
                    .selectFrom("github_writes as newer")
                    .select("newer.seq")
                    .whereRef("newer.installation_id", "=", "old.installation_id")
                    .whereRef("newer.seq", ">", "old.seq"),
                ),
              )
              .limit(PRUNE_BATCH)
              .$asTuple("installation_id", "seq"),
          ),
        )
        .executeTakeFirst();
      if (Number(deleted.numDeletedRows) < PRUNE_BATCH) return;
    }
  }
}
