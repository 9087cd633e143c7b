import type { Logger } from "probot";
import { cutText } from "../log/bounded-log.ts";
import { ClaimLoop } from "../store/claim-loop.ts";
import type { ClaimedDelivery, DeliveryStore } from "./delivery-store.ts";
import { invalidPayloadIn } from "./invalid-payload.ts";

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
  /**
   * True while webhooks arrive faster than the process can take them (see intake-pressure.ts). The
   * worker then keeps one delivery in hand instead of `concurrency`: GitHub waits on the
   * acknowledgement, while processing can come a moment later, so under a burst the intake gets most
   * of the CPU and the inbox absorbs the rest, and processing never stops.
   */
  intakeBusy?: () => boolean;
}

/** An error kept with a delivery can quote its payload; the store keeps this much of it. */
const MAX_STORED_ERROR_CHARS = 2_000;

/** Exponential backoff from 1 s, capped at 5 minutes, with jitter so retries do not arrive in bursts. */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(1_000 * 2 ** (attempts - 1), 300_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Processes the inbox: claims due deliveries, runs them, and records success, retry or give-up. */
export function inboxWorker(options: InboxWorkerOptions): ClaimLoop<ClaimedDelivery> {
  const { deliveries, log, maxAttempts } = options;
  const leaseMs = options.leaseMs ?? 120_000;
  let inHand = 0;
  return new ClaimLoop({
    name: "inbox",
    log,
    concurrency: options.concurrency,
    pollMs: options.pollMs ?? 500,
    claim: async () => (inHand > 0 && options.intakeBusy?.() ? undefined : deliveries.claimNext(leaseMs)),
    async handle(delivery) {
      inHand += 1;
      try {
        await handleOne(delivery);
      } finally {
        inHand -= 1;
      }
    },
  });

  async function handleOne(delivery: ClaimedDelivery): Promise<void> {
    const context = { delivery: delivery.id, event: delivery.event, attempt: delivery.attempts, size: Buffer.byteLength(delivery.payload) };
    if (delivery.attempts > maxAttempts) {
      // Every attempt was claimed and none finished: the process died (or hung past the lease)
      // each time. Processing it again would only take down another replica.
      const reason = `the process stopped while handling it in each of its ${maxAttempts} attempts (crash, kill or a handler that outlived the lease)`;
      log.error(context, `inbox: delivery given up: ${reason}`);
      await deliveries.fail(delivery, reason, undefined);
      return;
    }
    try {
      await options.process(delivery);
      await deliveries.complete(delivery);
    } catch (error) {
      const invalid = invalidPayloadIn(error);
      if (invalid) {
        // The same payload fails the same way every time: dead now, with the handler's reason.
        log.warn({ ...context, reason: invalid.message }, "inbox: delivery's payload does not fit; given up without retrying");
        await deliveries.fail(delivery, invalid.message, undefined);
        return;
      }
      const message = cutText(error instanceof Error ? error.message : String(error), MAX_STORED_ERROR_CHARS);
      const retryAt = delivery.attempts < maxAttempts ? Date.now() + retryDelayMs(delivery.attempts) : undefined;
      log.warn({ ...context, err: error, retryAt }, retryAt ? "inbox: delivery failed; will retry" : "inbox: delivery failed for the last time");
      await deliveries.fail(delivery, message, retryAt);
    }
  }
}
