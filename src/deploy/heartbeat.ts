import type { Logger } from "probot";
import type { DeploymentStore } from "./deployment-store.ts";
import type { LeaseTiming } from "./lease-timing.ts";

/**
 * Tells the other replicas this one is alive, every `heartbeatMs`. Its own deadline follows: once no
 * heartbeat has been stored for `heartbeatDeadlineMs` the replica stops acting, before the others
 * (at `heartbeatStaleMs`) take its leases.
 */
export class Heartbeat {
  readonly #deployments: DeploymentStore;
  readonly #instanceId: string;
  readonly #timing: LeaseTiming;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  /** Monotonic reading taken just before the last heartbeat that was stored. */
  #storedAt = -Infinity;

  constructor(deployments: DeploymentStore, instanceId: string, timing: LeaseTiming, log: Logger) {
    this.#deployments = deployments;
    this.#instanceId = instanceId;
    this.#timing = timing;
    this.#log = log;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.beat(), this.#timing.heartbeatMs);
    void this.beat();
  }

  /** Stops beating and hands this replica's deployments over at once. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#beating;
    this.#storedAt = -Infinity;
    await this.#deployments.leave(this.#instanceId).catch((err: unknown) => this.#log.warn({ err }, "could not record that this replica left"));
  }

  /** Time this replica may still act on the strength of its heartbeat; zero or less means stop. */
  remainingMs(): number {
    return this.#storedAt + this.#timing.heartbeatDeadlineMs - performance.now();
  }

  beat(): Promise<void> {
    // One beat at a time: a slow store must not stack them up.
    this.#beating ??= this.#beat().finally(() => {
      this.#beating = undefined;
    });
    return this.#beating;
  }

  async #beat(): Promise<void> {
    const readAt = performance.now();
    try {
      await this.#deployments.heartbeat(this.#instanceId, this.#deployments.now);
      if (this.#timer) this.#storedAt = readAt;
    } catch (err) {
      this.#log.warn({ err }, "could not store this replica's heartbeat; it stops acting if that lasts");
    }
  }
}
