// AWS's answer when an account's API rate limit is reached, whatever the service calls it.
const THROTTLING = new Set(["Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "RequestThrottled", "SlowDown"]);

/** Whether the error, or one it wraps, is AWS throttling the account. */
export function isThrottling(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (THROTTLING.has(e.name)) return true;
  }
  return false;
}
