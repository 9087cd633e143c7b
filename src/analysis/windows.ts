// Where judged windows lie in time. CloudWatch sums an ALB's metrics per clock-aligned minute:
// windows on that grid never split a period, so consecutive windows neither overlap nor leave a gap,
// and a window ends metricsDelay before now, when its last period is published. An interval shorter
// than a minute is the local world's: there it is the minute itself (AWS's, at the emulator's time
// scale), or a second in the fast world.
import type { EnvironmentConfig } from "../config/repo-config.ts";

type Timing = Pick<EnvironmentConfig["analysis"], "interval" | "metricsDelay">;

const MINUTE = 60_000;

export function gridOf(settings: Timing): number {
  return Math.min(settings.interval, MINUTE);
}

export function alignUp(time: number, settings: Timing): number {
  const grid = gridOf(settings);
  return Math.ceil(time / grid) * grid;
}

/** The latest time whose metrics are complete: now − metricsDelay, down to the grid. */
export function completeUntil(now: number, settings: Timing): number {
  const grid = gridOf(settings);
  return Math.floor((now - settings.metricsDelay) / grid) * grid;
}

/** When the metrics up to `end` are complete. */
export function completeAt(end: number, settings: Timing): number {
  return alignUp(end, settings) + settings.metricsDelay;
}
