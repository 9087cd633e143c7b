import { retryDelayMs } from "../inbox/worker.ts";

/** What to do after a write to GitHub failed: try again at a time, or drop it (it can never succeed). */
export type RetryDecision = { retryAt: number } | { drop: string };

interface HttpFailure {
  status?: unknown;
  response?: { headers?: Record<string, string | number | undefined> };
}

/**
 * GitHub's answer decides: `Retry-After` (secondary limits) or `x-ratelimit-reset` with none remaining
 * (primary limit) say when; a 5xx, a network failure or a 409 retry with backoff; another 4xx (a
 * deleted repository, an uninstalled app, a body GitHub rejects) would fail the same way forever.
 */
export function decideRetry(error: unknown, attempts: number, now: number, random: () => number = Math.random): RetryDecision {
  const failure = (typeof error === "object" && error !== null ? error : {}) as HttpFailure;
  const status = typeof failure.status === "number" ? failure.status : undefined;
  const headers = failure.response?.headers ?? {};
  const retryAfter = Number(headers["retry-after"]);
  if (Number.isFinite(retryAfter) && retryAfter >= 0) return { retryAt: now + retryAfter * 1_000 };
  const reset = Number(headers["x-ratelimit-reset"]);
  if (String(headers["x-ratelimit-remaining"]) === "0" && Number.isFinite(reset)) return { retryAt: Math.max(now, reset * 1_000) };
  const permanent = status !== undefined && status >= 400 && status < 500 && ![408, 409, 429].includes(status);
  if (permanent) return { drop: `GitHub answered ${status}` };
  return { retryAt: now + retryDelayMs(attempts, random) };
}
