// How long to wait before looking again while nothing is expected to change soon. A target turns
// healthy only after several health checks (on AWS's defaults 5 × 30 s), so polling a warming
// service every few seconds spends the account's API budget for nothing: the wait grows with the
// time already spent, up to a cap, and every deployment of an account stays within AWS's rate limits.
import type { ControllerTiming } from "./tick-context.ts";

/** The longest wait between two looks at a warming service: one AWS default health-check interval. */
export const MAX_WARM_POLL_MS = 30_000;
/** The wait is this fraction of the time spent so far. */
const GROWTH = 1 / 4;
/** And never more than this share of the warm-up timeout, so a timeout is noticed close to when it passes. */
const TIMEOUT_SHARE = 1 / 20;

export function warmPollMs(timing: Pick<ControllerTiming, "pollMs" | "warmTimeoutMs">, elapsedMs: number): number {
  const cap = Math.max(timing.pollMs, Math.min(MAX_WARM_POLL_MS, timing.warmTimeoutMs * TIMEOUT_SHARE));
  return Math.round(Math.min(cap, Math.max(timing.pollMs, elapsedMs * GROWTH)));
}
