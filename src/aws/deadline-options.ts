import type { Deadline } from "../deploy/deadline.ts";
import { DeadlinePassed } from "../deploy/deadline.ts";
import { RETRY } from "./clients.ts";

/**
 * Per-call options (`client.send(command, options)`) that keep an AWS write inside a lease: the
 * signal aborts it at the deadline, and every attempt's timeout is cut so that all the SDK's
 * attempts fit in the time left.
 */
export function boundBy(deadline: Deadline | undefined, what: string): { abortSignal?: AbortSignal; requestTimeout?: number } {
  if (!deadline) return {};
  const left = deadline.remainingMs();
  if (left <= 0) throw new DeadlinePassed(what);
  return { abortSignal: deadline.signal, requestTimeout: Math.max(1, Math.floor(left / RETRY.maxAttempts)) };
}
