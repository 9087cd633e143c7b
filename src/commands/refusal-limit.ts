import { sql } from "kysely";
import type { Store } from "../store/open-store.ts";

/** Replies to refused commands one user gets in one repository per window; further refusals are audited only. */
export const REFUSAL_REPLIES_PER_WINDOW = 3;
export const REFUSAL_WINDOW_MS = 10 * 60_000;

/**
 * Counts the replies Gantry gave to one user's refused commands in one repository, over a sliding
 * window, in the store: every replica counts against the same limit. Past it, further refusals are
 * recorded without a reply or reaction, so a flood of refused commands costs no GitHub writes.
 *
 * A user and repository has `limit` reply slots; a reply takes a slot that is free or whose last
 * reply has left the window, with one conditional upsert, so two replicas never take the same one.
 */
export class RefusalLimit {
  readonly #store: Store;
  readonly #now: () => number;
  readonly #limit: number;
  readonly #windowMs: number;

  constructor(store: Store, options: { now?: () => number; limit?: number; windowMs?: number } = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
    this.#limit = options.limit ?? REFUSAL_REPLIES_PER_WINDOW;
    this.#windowMs = options.windowMs ?? REFUSAL_WINDOW_MS;
  }

  /** Whether `login` has had every reply the window allows in `repository`. */
  async exhausted(repository: string, login: string): Promise<boolean> {
    return (await this.#recent(keyOf(repository, login))).length >= this.#limit;
  }

  /**
   * Takes a reply for a refused (or invalid) command: "first" for the window's first refusal (its
   * reply says that more will be quiet), "reply", or "quiet" (audit log only). Invalid commands
   * count toward the limit, but a typo is not where the notice belongs.
   */
  async take(repository: string, login: string, kind: "refused" | "invalid"): Promise<"first" | "reply" | "quiet"> {
    const key = keyOf(repository, login);
    const recent = await this.#recent(key);
    if (recent.length >= this.#limit) return "quiet";
    const now = this.#now();
    const since = now - this.#windowMs;
    for (let slot = 0; slot < this.#limit; slot += 1) {
      const taken = await this.#store.db
        .insertInto("refusal_replies")
        .values({ key, slot, replied_at: now, kind })
        .onConflict((conflict) =>
          conflict
            .columns(["key", "slot"])
            .doUpdateSet({ replied_at: now, kind })
            .where(sql.ref("refusal_replies.replied_at"), "<=", since),
        )
        .returning("slot")
        .executeTakeFirst();
      if (taken) return kind === "refused" && !recent.includes("refused") ? "first" : "reply";
    }
    return "quiet";
  }

  /** The sentence the first refusal carries. */
  notice(login: string): string {
    const minutes = Math.round(this.#windowMs / 60_000);
    return `After ${this.#limit} refusals within ${minutes} minutes, further refused commands from @${login} in this repository get no reply: they are recorded in the audit log only.`;
  }

  /** The kinds of the replies within the window. */
  async #recent(key: string): Promise<string[]> {
    const rows = await this.#store.db
      .selectFrom("refusal_replies")
      .select("kind")
      .where("key", "=", key)
      .where("replied_at", ">", this.#now() - this.#windowMs)
      .execute();
    return rows.map((row) => row.kind);
  }
}

function keyOf(repository: string, login: string): string {
  return `${repository.toLowerCase()}/${login.toLowerCase()}`;
}
