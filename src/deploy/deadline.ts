/**
 * When the holder of a lease must have stopped acting. Kept on the monotonic clock, so a wall-clock
 * jump neither extends nor cuts it; the signal aborts whatever AWS call is still running then.
 */
export class Deadline {
  readonly signal: AbortSignal;
  readonly #at: number;

  constructor(budgetMs: number) {
    this.#at = performance.now() + budgetMs;
    this.signal = AbortSignal.timeout(Math.max(0, Math.floor(budgetMs)));
  }

  /** Time left; zero or less once passed (also when the event loop was too busy to fire the signal). */
  remainingMs(): number {
    return this.signal.aborted ? 0 : this.#at - performance.now();
  }
}

export class DeadlinePassed extends Error {
  constructor(what: string) {
    super(`${what} was not sent: this replica's lease may be taken over by now`);
  }
}
