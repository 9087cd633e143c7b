import type { ProbotOctokit } from "probot";

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

/**
 * Counts this replica's writes per installation in sliding windows and says when the next may go.
 * The outbox drain skips an installation whose windows are full (so it holds no claim while it
 * waits), and each write waits for its slot before it is sent.
 */
export class InstallationPacer {
  readonly #limits: readonly WriteLimit[];
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #sent = new Map<number, number[]>();
  readonly #paced = new WeakSet<object>();
  readonly #maxWaitMs: number;
  readonly #sleepers = new Set<() => void>();
  #stopped = false;

  /** `maxWaitMs`: a write waits this long for its slot at most (well within the outbox lease), else PacedError. */
  constructor(options: { limits?: readonly WriteLimit[]; now?: () => number; sleep?: (ms: number) => Promise<void>; maxWaitMs?: number } = {}) {
    this.#limits = options.limits ?? GITHUB_WRITE_LIMITS;
    this.#maxWaitMs = options.maxWaitMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** When the installation may send its next write: now, or when its oldest write in a full window ages out. */
  nextSlot(installationId: number): number {
    const now = this.#now();
    const sent = this.#prune(installationId, now);
    let slot = now;
    for (const { max, perMs } of this.#limits) {
      const inWindow = sent.filter((at) => at > now - perMs);
      if (inWindow.length >= max) slot = Math.max(slot, inWindow[inWindow.length - max]! + perMs);
    }
    return slot;
  }

  /** Installations that may not write now. */
  waiting(): number[] {
    const now = this.#now();
    return [...this.#sent.keys()].filter((installationId) => this.nextSlot(installationId) > now);
  }

  /**
   * Waits for the installation's next slot, then counts a write in it; throws PacedError when that is
   * too far off, or once the pacer is stopped.
   */
  async take(installationId: number): Promise<void> {
    const first = this.nextSlot(installationId);
    if (first - this.#now() > this.#maxWaitMs || (this.#stopped && first > this.#now())) throw new PacedError(installationId, first);
    for (let slot = this.nextSlot(installationId); slot > this.#now(); slot = this.nextSlot(installationId)) {
      await this.#sleepUnlessStopped(slot - this.#now());
      if (this.#stopped) throw new PacedError(installationId, this.nextSlot(installationId));
    }
    const sent = this.#sent.get(installationId) ?? [];
    sent.push(this.#now());
    this.#sent.set(installationId, sent);
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

  #prune(installationId: number, now: number): number[] {
    const longest = Math.max(...this.#limits.map((limit) => limit.perMs));
    const sent = (this.#sent.get(installationId) ?? []).filter((at) => at > now - longest);
    if (sent.length === 0) this.#sent.delete(installationId);
    else this.#sent.set(installationId, sent);
    return sent;
  }
}
