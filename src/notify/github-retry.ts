import { retryDelayMs } from "../inbox/worker.ts";

/** What to do after a write to GitHub failed: try again at a time, or drop it (it can never succeed). */
export type RetryDecision = { retryAt: number } | { drop: string };

interface HttpFailure {
  status?: unknown;
  response?: { headers?: Record<string, string | number | undefined> };
}

/**
 * When GitHub's limits allow the next request, if the failure was one: `Retry-After` (secondary
 * limits) or `x-ratelimit-reset` with none remaining (the primary limit). Undefined otherwise.
 */
export function limitedUntil(error: unknown, now: number): number | undefined {
  const failure = (typeof error === "object" && error !== null ? error : {}) as HttpFailure;
  const headers = failure.response?.headers ?? {};
  const retryAfter = Number(headers["retry-after"]);
  if (headers["retry-after"] !== undefined && Number.isFinite(retryAfter) && retryAfter >= 0) return now + retryAfter * 1_000;
  const reset = Number(headers["x-ratelimit-reset"]);
  if (String(headers["x-ratelimit-remaining"]) === "0" && Number.isFinite(reset)) return Math.max(now, reset * 1_000);
  return undefined;
}

/**
 * GitHub's answer decides: a limit says when (limitedUntil); a 5xx, a network failure or a 409 retry
 * with backoff; another 4xx (a deleted repository, an uninstalled app, a body GitHub rejects) would
 * fail the same way forever.
 */
export function decideRetry(error: unknown, attempts: number, now: number, random: () => number = Math.random): RetryDecision {
  const limited = limitedUntil(error, now);
  if (limited !== undefined) return { retryAt: limited };
  const status = (typeof error === "object" && error !== null ? (error as HttpFailure).status : undefined) as number | undefined;
  const permanent = typeof status === "number" && status >= 400 && status < 500 && ![408, 409, 429].includes(status);
  if (permanent) return { drop: `GitHub answered ${status}` };
  return { retryAt: now + retryDelayMs(attempts, random) };
}
