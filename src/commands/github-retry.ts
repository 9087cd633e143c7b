/** Retries of GitHub reads on the command path, while deciding (writes leave through the outbox). */

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  /** No single wait is longer, whatever `Retry-After` asks. */
  maxDelayMs: number;
  sleep: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

interface HttpFailure {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined> };
}

/**
 * A failure that asking again may cure: GitHub's 5xx, a rate limit (429, or 403 with `Retry-After`
 * or naming the secondary limit), and no answer at all (timeouts and dropped connections, which
 * Octokit reports as 500 without a response).
 */
export function isTransient(error: unknown): boolean {
  const { status, message = "", response } = (error ?? {}) as HttpFailure;
  if (status === undefined) return true;
  if (status >= 500 || status === 429) return true;
  return status === 403 && (response?.headers?.["retry-after"] !== undefined || /rate limit/iu.test(message));
}

function retryAfterMs(error: unknown): number | undefined {
  const header = (error as HttpFailure).response?.headers?.["retry-after"];
  const seconds = header === undefined ? Number.NaN : Number(header);
  return Number.isFinite(seconds) ? seconds * 1_000 : undefined;
}

/** Runs `call` until it succeeds, a failure is not transient, or the attempts run out (then it throws). */
export async function withRetry<T>(policy: RetryPolicy, call: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call(attempt);
    } catch (error) {
      if (attempt >= policy.attempts || !isTransient(error)) throw error;
      const backoff = policy.baseDelayMs * 2 ** (attempt - 1);
      await policy.sleep(Math.min(retryAfterMs(error) ?? backoff, policy.maxDelayMs));
    }
  }
}
