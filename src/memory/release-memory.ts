import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { performance } from "node:perf_hooks";

type CollectGarbage = (options: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

/**
 * One memory-reducing collection: V8 compacts the heap and gives its free pages back to the
 * operating system. It blocks the event loop for a few to a few hundred milliseconds, so it runs
 * only when the process has nothing else to do.
 */
function collectAndReturnMemory(): void {
  // V8's collector is reachable only through its `gc` extension: exposed to one new context, and
  // then no more, so no code loaded later finds it.
  setFlagsFromString("--expose-gc");
  const collect = runInNewContext("gc") as CollectGarbage;
  setFlagsFromString("--no-expose-gc");
  collect({ type: "major", execution: "sync", flavor: "last-resort" });
}

/**
 * Returns to the operating system the memory that starting up needed and no longer does. Loading
 * and compiling Gantry's modules and their dependencies grows V8's young generation to its largest
 * size; with little allocation afterwards, an idle server would hold those pages for a long time.
 * One memory-reducing collection, once the server is listening, gives back about 20 MB.
 */
export function releaseStartupMemory(): void {
  collectAndReturnMemory();
}

export interface IdleMemoryRelease {
  stop(): void;
}

/**
 * After a burst (a flood of webhooks, a large push of configs), V8 keeps the heap it grew for a long
 * time though the garbage is gone. Every `intervalMs`, when the event loop was nearly idle over the
 * last interval and the resident set has grown by `growthMb` since the last release, one
 * memory-reducing collection gives it back, if the loop is still idle `confirmMs` later: a busy
 * process is not paused for it.
 */
export function releaseMemoryWhenIdle(
  options: {
    intervalMs?: number;
    growthMb?: number;
    /** Share of the interval the event loop may have been busy and still count as idle. */
    idleUtilization?: number;
    /** The loop must stay idle this long more, just before the collection. */
    confirmMs?: number;
    rssMb?: () => number;
    utilization?: () => number;
    collect?: () => void;
    /** Told what each release gave back. */
    released?: (fromMb: number, toMb: number) => void;
  } = {},
): IdleMemoryRelease {
  const growthMb = options.growthMb ?? 48;
  const idleUtilization = options.idleUtilization ?? 0.05;
  const rssMb = options.rssMb ?? (() => process.memoryUsage.rss() / 2 ** 20);
  const collect = options.collect ?? collectAndReturnMemory;
  const utilization = options.utilization ?? sinceLastLook();
  let baselineMb = rssMb();
  const confirmMs = options.confirmMs ?? 250;
  let confirming: NodeJS.Timeout | undefined;
  const release = (fromMb: number) => {
    confirming = undefined;
    // Work may have started since the look: the collection would stall it.
    if (utilization() > idleUtilization) return;
    collect();
    baselineMb = rssMb();
    options.released?.(fromMb, baselineMb);
  };
  const look = () => {
    const busy = utilization();
    const currentMb = rssMb();
    baselineMb = Math.min(baselineMb, currentMb);
    if (busy > idleUtilization || currentMb < baselineMb + growthMb || confirming) return;
    confirming = setTimeout(() => release(currentMb), confirmMs);
    confirming.unref();
  };
  const timer = setInterval(look, options.intervalMs ?? 5_000);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      clearTimeout(confirming);
    },
  };
}

/** The event loop's busy share since the previous call. */
function sinceLastLook(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    return utilization;
  };
}
