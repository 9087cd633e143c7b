/** Replies to refused commands one user gets in one repository per window; further refusals are audited only. */
export const REFUSAL_REPLIES_PER_WINDOW = 3;
export const REFUSAL_WINDOW_MS = 10 * 60_000;
const MAX_KEYS = 10_000;

interface Reply {
  at: number;
  kind: "refused" | "invalid";
}

/**
 * Counts the replies Gantry gave to one user's refused commands in one repository, over a sliding
 * window. Past the limit, further refusals are recorded without a reply or reaction, so a flood of
 * refused commands costs no GitHub writes.
 */
export class RefusalLimit {
  readonly #replies = new Map<string, Reply[]>();
  readonly #now: () => number;
  readonly #limit: number;
  readonly #windowMs: number;

  constructor(options: { now?: () => number; limit?: number; windowMs?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#limit = options.limit ?? REFUSAL_REPLIES_PER_WINDOW;
    this.#windowMs = options.windowMs ?? REFUSAL_WINDOW_MS;
  }

  /** Whether `login` has had every reply the window allows in `repository`. */
  exhausted(repository: string, login: string): boolean {
    return this.#recent(keyOf(repository, login)).length >= this.#limit;
  }

  /**
   * Takes a reply for a refused (or invalid) command: "first" for the window's first refusal (its
   * reply says that more will be quiet), "reply", or "quiet" (audit log only). Invalid commands
   * count toward the limit, but a typo is not where the notice belongs.
   */
  take(repository: string, login: string, kind: "refused" | "invalid"): "first" | "reply" | "quiet" {
    const key = keyOf(repository, login);
    const recent = this.#recent(key);
    if (recent.length >= this.#limit) return "quiet";
    const first = kind === "refused" && !recent.some((reply) => reply.kind === "refused");
    recent.push({ at: this.#now(), kind });
    this.#replies.delete(key);
    if (this.#replies.size >= MAX_KEYS) this.#replies.delete(this.#replies.keys().next().value!);
    this.#replies.set(key, recent);
    return first ? "first" : "reply";
  }

  /** The sentence the first refusal carries. */
  notice(login: string): string {
    const minutes = Math.round(this.#windowMs / 60_000);
    return `After ${this.#limit} refusals within ${minutes} minutes, further refused commands from @${login} in this repository get no reply: they are recorded in the audit log only.`;
  }

  #recent(key: string): Reply[] {
    const since = this.#now() - this.#windowMs;
    return (this.#replies.get(key) ?? []).filter((reply) => reply.at > since);
  }
}

function keyOf(repository: string, login: string): string {
  return `${repository.toLowerCase()}/${login.toLowerCase()}`;
}
