import { performance } from "node:perf_hooks";
import type { BodyBudget } from "./body-budget.ts";

/** The stretch of time one reading covers. */
const WINDOW_MS = 100;
/** Event loop utilisation above which the process has no time to spare. */
const SATURATED_ABOVE = 0.9;

/**
 * Whether the intake needs all of the CPU: over the last window the event loop was almost never
 * idle and webhooks were arriving. The inbox worker then defers new deliveries, so a burst is
 * acknowledged at the intake's full speed; below saturation (a steady few hundred a second) the
 * loop has idle time and processing goes on alongside. Read when asked, not on a timer: a new
 * reading is taken when the last one is a window old.
 */
export function intakePressure(budget: BodyBudget): () => boolean {
  let since = performance.eventLoopUtilization();
  let readAt = performance.now();
  let openedBefore = budget.bodiesOpened;
  let saturated = false;
  return () => {
    const now = performance.now();
    if (now - readAt >= WINDOW_MS) {
      const window = performance.eventLoopUtilization(since);
      saturated = window.utilization > SATURATED_ABOVE && budget.bodiesOpened > openedBefore;
      since = performance.eventLoopUtilization();
      readAt = now;
      openedBefore = budget.bodiesOpened;
    }
    return saturated;
  };
}
