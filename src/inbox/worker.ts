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
   * normal lane then keeps one delivery in hand instead of `concurrency`: GitHub waits on the
   * acknowledgement, while processing can come a moment later, so under a burst the intake gets most
   * of the CPU and the inbox absorbs the rest, and processing never stops. The urgent lane never holds back.
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

export interface InboxWorker {
  start(): void;
  /** Ends both lanes after the deliveries in hand are handled. */
  stop(): Promise<void>;
  /** A delivery was stored: look for work now rather than at the next poll. */
  wake(): void;
}

/**
 * Processes the inbox: claims due deliveries, runs them, and records success, retry or give-up.
 * Two lanes: `concurrency` workers take deliveries most urgent first, and one more takes only urgent
 * ones, so a maintainer's `/rollback` starts at once even while every other worker is in the middle
 * of a flood of refusals (or waiting on a slow GitHub).
 */
export function inboxWorker(options: InboxWorkerOptions): InboxWorker {
  const { deliveries } = options;
  const leaseMs = options.leaseMs ?? 120_000;
  const handleOne = handler(options);
  let inHand = 0;
  const handle = async (delivery: ClaimedDelivery) => {
    inHand += 1;
    try {
      await handleOne(delivery);
    } finally {
      inHand -= 1;
    }
  };
  const lane = (name: string, concurrency: number, urgentOnly: boolean) =>
    new ClaimLoop({
      name,
      log: options.log,
      concurrency,
      pollMs: options.pollMs ?? 500,
      claim: async () => (!urgentOnly && inHand > 0 && options.intakeBusy?.() ? undefined : deliveries.claimNext(leaseMs, { urgentOnly })),
      handle,
    });
  const lanes = [lane("inbox", options.concurrency, false), lane("inbox (urgent lane)", 1, true)];
  return {
    start: () => lanes.forEach((loop) => loop.start()),
    stop: async () => void (await Promise.all(lanes.map((loop) => loop.stop()))),
    wake: () => lanes.forEach((loop) => loop.wake()),
  };
}

function handler(options: InboxWorkerOptions): (delivery: ClaimedDelivery) => Promise<void> {
  const { deliveries, log, maxAttempts } = options;
  return async (delivery) => {
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
  };
}
