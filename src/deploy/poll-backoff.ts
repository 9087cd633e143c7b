// How long to wait before looking at a warming colour again. A target turns healthy only after
// several health checks (on AWS's defaults 5 × 30 s), so polling every few seconds from the start
// spends the account's API budget for nothing; but once the target group can have passed its checks,
// a slow poll lets the colour sit healthy and unused. So: rare looks while tasks start and until the
// earliest moment the new targets can be healthy, then the fast poll, slowing only for targets that
// take much longer than that (an app slow to listen fails its first checks).
import type { TargetGroupTiming } from "./fleet.ts";
import type { ControllerTiming } from "./tick-context.ts";

/** The longest wait between two looks at a warming service: one AWS default health-check interval. */
export const MAX_WARM_POLL_MS = 30_000;
/** While nothing is expected to change, the wait is this fraction of the time spent so far. */
const GROWTH = 1 / 4;
/** And never more than this share of the warm-up timeout, so a timeout is noticed close to when it passes. */
const TIMEOUT_SHARE = 1 / 20;

/** What one look at the warming colour saw, in ms since its warm-up began. */
export interface WarmLook {
  elapsedMs: number;
  desiredCount: number;
  /** Targets of the colour's group that are not draining: registered, in their checks, healthy or unhealthy. */
  registered: number;
  healthy: number;
  /** Targets leaving the group (tasks being replaced), which ECS waits for before it calls the service steady. */
  draining: number;
  /** The last look that saw fewer targets registered than desired tasks (0: the start of the warm-up). */
  registeredAfterMs: number;
  /** The last look that saw no target draining (0: the start of the warm-up). */
  drainingAfterMs: number;
}

/** Past the earliest moment, the wait is this fraction of the time since, so a target that took longer (an app slow to listen, failed first checks, a longer drain) costs a few looks, not one every poll. */
const LATE_GROWTH = 1 / 16;

/** The backoff while nothing is expected soon: a quarter of the time spent, between the poll interval and the cap. */
export function backoffMs(timing: Pick<ControllerTiming, "pollMs" | "warmTimeoutMs">, elapsedMs: number): number {
  return Math.round(Math.min(capMs(timing), Math.max(timing.pollMs, elapsedMs * GROWTH)));
}

function capMs(timing: Pick<ControllerTiming, "pollMs" | "warmTimeoutMs">): number {
  return Math.max(timing.pollMs, Math.min(MAX_WARM_POLL_MS, timing.warmTimeoutMs * TIMEOUT_SHARE));
}

/**
 * The earliest the registered targets can all be healthy: the last of them registered after
 * `registeredAfterMs`, and its first check comes at the earliest right then, so it passes its last
 * one `healthyThreshold − 1` intervals later.
 */
export function earliestHealthyMs(
  look: Pick<WarmLook, "registeredAfterMs">,
  group: Pick<TargetGroupTiming, "healthyThreshold" | "healthCheckIntervalMs">,
  awsClockScale = 1,
): number {
  return look.registeredAfterMs + (group.healthyThreshold - 1) * group.healthCheckIntervalMs * awsClockScale;
}

/** The earliest the draining targets can be gone: they began draining after `drainingAfterMs`, and drain for the whole deregistration delay. */
export function earliestDrainedMs(
  look: Pick<WarmLook, "drainingAfterMs">,
  group: Pick<TargetGroupTiming, "deregistrationDelayMs">,
  awsClockScale = 1,
): number {
  return look.drainingAfterMs + group.deregistrationDelayMs * awsClockScale;
}

/**
 * The wait before the next look. `group` (the target group's timing) is read only while registered
 * targets are not yet healthy or old ones drain.
 */
export async function warmPollMs(
  timing: Pick<ControllerTiming, "pollMs" | "warmTimeoutMs"> & Partial<Pick<ControllerTiming, "awsClockScale">>,
  look: WarmLook,
  group: () => Promise<Pick<TargetGroupTiming, "healthyThreshold" | "healthCheckIntervalMs" | "deregistrationDelayMs">>,
): Promise<number> {
  // Tasks still starting (placement, image pull): nothing to time it by.
  if (look.registered < look.desiredCount) return backoffMs(timing, look.elapsedMs);
  if (look.healthy < look.registered) return untilEarliestMs(timing, look.elapsedMs, earliestHealthyMs(look, await group(), timing.awsClockScale));
  // All healthy and nothing draining: ECS calls the service steady any moment.
  if (look.draining === 0) return timing.pollMs;
  // Replaced tasks draining for the deregistration delay; ECS stops them, and calls the service steady, once it has passed.
  return untilEarliestMs(timing, look.elapsedMs, earliestDrainedMs(look, await group(), timing.awsClockScale));
}

/** Rare looks until the earliest moment something can have happened, then the fast poll, slowing by a sixteenth of the time past it. */
function untilEarliestMs(timing: Pick<ControllerTiming, "pollMs" | "warmTimeoutMs">, elapsedMs: number, earliestMs: number): number {
  const sinceEarliest = elapsedMs - earliestMs;
  const waitMs = sinceEarliest < 0 ? -sinceEarliest : sinceEarliest * LATE_GROWTH;
  return Math.round(Math.min(capMs(timing), Math.max(timing.pollMs, waitMs)));
}
