import type { Logger } from "probot";
import type { DeliveryStore } from "./delivery-store.ts";

const DAY_MS = 24 * 60 * 60 * 1_000;

export interface InboxRetention {
  /** Days a processed delivery is kept (its payload, and its id for spotting redeliveries). */
  doneDays: number;
  /** Days a dead delivery is kept for inspection. */
  deadDays: number;
}

export interface InboxPrunerOptions {
  deliveries: DeliveryStore;
  retention: InboxRetention;
  log: Logger;
  /** Rows deleted per statement: each is a short write, so the intake's inserts go in between. */
  batchSize?: number;
  /** Pause between batches, for the same reason. */
  pauseMs?: number;
  intervalMs?: number;
  now?: () => number;
}

/**
 * Deletes finished deliveries once their retention has passed, so the inbox does not grow with every
 * webhook ever received. Runs at start and then every `intervalMs`, in small batches.
 */
export class InboxPruner {
  readonly #options: InboxPrunerOptions;
  readonly #batchSize: number;
  readonly #pauseMs: number;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(options: InboxPrunerOptions) {
    this.#options = options;
    this.#batchSize = options.batchSize ?? 200;
    this.#pauseMs = options.pauseMs ?? 20;
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    this.#stopped = false;
    const run = () => {
      this.#running ??= this.pruneNow()
        .catch((error: unknown) => this.#options.log.warn({ err: error }, "inbox: pruning failed; retrying at the next interval"))
        .finally(() => (this.#running = undefined));
    };
    run();
    this.#timer = setInterval(run, this.#options.intervalMs ?? 10 * 60_000).unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#running;
  }

  /** Deletes every delivery past its retention; returns how many of each kind. */
  async pruneNow(): Promise<{ done: number; dead: number }> {
    const { retention } = this.#options;
    const done = await this.#prune("done", this.#now() - retention.doneDays * DAY_MS);
    const dead = await this.#prune("dead", this.#now() - retention.deadDays * DAY_MS);
    if (done + dead > 0) this.#options.log.info({ done, dead }, "inbox: pruned deliveries past their retention");
    return { done, dead };
  }

  async #prune(status: "done" | "dead", before: number): Promise<number> {
    let total = 0;
    while (!this.#stopped) {
      const deleted = await this.#options.deliveries.deleteFinished(status, before, this.#batchSize);
      total += deleted;
      if (deleted < this.#batchSize) break;
      await new Promise((resolve) => setTimeout(resolve, this.#pauseMs));
    }
    return total;
  }
}
