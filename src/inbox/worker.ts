import type { Logger } from "probot";
import { ClaimLoop } from "../store/claim-loop.ts";
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
export function inboxWorker(options: InboxWorkerOptions): ClaimLoop<ClaimedDelivery> {
  const { deliveries, log, maxAttempts } = options;
  const leaseMs = options.leaseMs ?? 120_000;
  return new ClaimLoop({
    name: "inbox",
    log,
    concurrency: options.concurrency,
    pollMs: options.pollMs ?? 500,
    claim: () => deliveries.claimNext(leaseMs),
    async handle(delivery) {
      const context = { delivery: delivery.id, event: delivery.event, attempt: delivery.attempts };
      try {
        await options.process(delivery);
        await deliveries.complete(delivery);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const retryAt = delivery.attempts < maxAttempts ? Date.now() + retryDelayMs(delivery.attempts) : undefined;
        log.warn({ ...context, err: error, retryAt }, retryAt ? "inbox: delivery failed; will retry" : "inbox: delivery failed for the last time");
        await deliveries.fail(delivery, message, retryAt);
      }
    },
  });
}
