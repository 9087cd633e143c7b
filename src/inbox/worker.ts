import type { Logger } from "probot";
import type { ClaimedDelivery, DeliveryStore } from "./delivery-store.ts";

export interface InboxWorkerOptions {
  deliveries: DeliveryStore;
  /** Runs the app's handlers for one delivery; a throw means "try again later". */
  process: (delivery: ClaimedDelivery) => Promise<void>;
  log: Logger;
  concurrency: number;
  maxAttempts: number;
  /** How long a claimed delivery stays invisible to other claimers. */
  leaseMs?: number;
  pollMs?: number;
}

/** Exponential backoff from 1 s, capped at 5 minutes, with jitter so retries do not arrive in bursts. */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(1_000 * 2 ** (attempts - 1), 300_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Processes the inbox: claims due deliveries, runs them, and records success, retry or give-up. */
export class InboxWorker {
  readonly #options: Required<InboxWorkerOptions>;
  #running = false;
  #active = 0;
  #wakeUp: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: InboxWorkerOptions) {
    this.#options = { leaseMs: 120_000, pollMs: 500, ...options };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Ends the loop after the deliveries in hand are finished. */
  async stop(): Promise<void> {
    this.#running = false;
    this.wake();
    await this.#loop;
    await Promise.all(this.#inFlight);
  }

  wake(): void {
    this.#wakeUp?.();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const claimed = this.#active < this.#options.concurrency ? await this.#claim() : undefined;
      if (claimed) {
        this.#track(this.#handle(claimed));
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#options.pollMs);
        this.#wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wakeUp = undefined;
    }
  }

  async #claim(): Promise<ClaimedDelivery | undefined> {
    try {
      return await this.#options.deliveries.claimNext(this.#options.leaseMs);
    } catch (error) {
      this.#options.log.error({ err: error }, "inbox: could not claim a delivery; retrying on the next poll");
      return undefined;
    }
  }

  #track(work: Promise<void>): void {
    this.#active += 1;
    this.#inFlight.add(work);
    void work.finally(() => {
      this.#active -= 1;
      this.#inFlight.delete(work);
      this.wake();
    });
  }

  async #handle(delivery: ClaimedDelivery): Promise<void> {
    const { deliveries, log, maxAttempts } = this.#options;
    const context = { delivery: delivery.id, event: delivery.event, attempt: delivery.attempts };
    try {
      await this.#options.process(delivery);
      await deliveries.complete(delivery);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const retryAt = delivery.attempts < maxAttempts ? Date.now() + retryDelayMs(delivery.attempts) : undefined;
      log.warn({ ...context, err: error, retryAt }, retryAt ? "inbox: delivery failed; will retry" : "inbox: delivery failed for the last time");
      await deliveries.fail(delivery, message, retryAt).catch((err: unknown) => log.error({ ...context, err }, "inbox: could not record failure"));
    }
  }
}
