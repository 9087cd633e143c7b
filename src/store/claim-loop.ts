import type { Logger } from "probot";

export interface ClaimLoopOptions<T> {
  name: string;
  /** Takes the next due item, or undefined when none is due. */
  claim: () => Promise<T | undefined>;
  handle: (item: T) => Promise<void>;
  log: Logger;
  concurrency: number;
  pollMs: number;
}

/**
 * Claims due work from the store and handles it, up to `concurrency` at once; sleeps `pollMs` when
 * nothing is due, or until woken. Used by the webhook inbox and the deployment controller alike.
 */
export class ClaimLoop<T> {
  readonly #options: ClaimLoopOptions<T>;
  #running = false;
  #wakeUp: (() => void) | undefined;
  /** A wake that came while the loop was claiming, not sleeping: the next sleep is skipped. */
  #woken = false;
  #loop: Promise<void> | undefined;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: ClaimLoopOptions<T>) {
    this.#options = options;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Ends the loop after the items in hand are handled. */
  async stop(): Promise<void> {
    this.#running = false;
    this.wake();
    await this.#loop;
    await Promise.all(this.#inFlight);
  }

  wake(): void {
    if (this.#wakeUp) this.#wakeUp();
    else this.#woken = true;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      this.#woken = false;
      const claimed = this.#inFlight.size < this.#options.concurrency ? await this.#claim() : undefined;
      if (claimed !== undefined) {
        this.#track(this.#options.handle(claimed));
        continue;
      }
      // Work recorded while the claim ran (a request, a finished tick) may have been missed by it.
      if (this.#woken) continue;
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

  async #claim(): Promise<T | undefined> {
    try {
      return await this.#options.claim();
    } catch (error) {
      this.#options.log.error({ err: error }, `${this.#options.name}: could not claim; retrying on the next poll`);
      return undefined;
    }
  }

  #track(work: Promise<void>): void {
    const tracked = work
      .catch((error: unknown) => this.#options.log.error({ err: error }, `${this.#options.name}: handler failed`))
      .finally(() => {
        this.#inFlight.delete(tracked);
        this.wake();
      });
    this.#inFlight.add(tracked);
  }
}
