// Real HTTP load at a steady rate through a listener, with every failed request put down to its
// cause, so a test asserts on what a user would have seen and not on a starved load generator.
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";

export interface LoadStats {
  sent: number;
  /** Requests a user would have seen fail: a 5xx answer, a reset or refused connection, a timeout. */
  failed: number;
  /**
   * Those failures by cause: `"<status> from <version>"` for 5xx answers (`load balancer` when no
   * task answered, as for the balancer's own 502/503/504), `reset` and `timeout`. Empty when none failed.
   */
  failures: Record<string, number>;
  /**
   * Requests that reset or timed out while this process's own event loop was stalled past the
   * threshold (their start came late, or the loop stood still while they were in flight). A real
   * user's client would not have been starved, so these are not in `failed`.
   */
  starved: number;
  /** Responses by the `x-sample-version` that served them, and how many of those were 5xx. */
  byVersion: Record<string, { total: number; failed: number }>;
  /** When each failed request finished (epoch ms). */
  failedAt: number[];
}

export interface LoadOptions {
  /** A request that gets no byte for this long is a timeout (default 5000 ms). */
  timeoutMs?: number;
  /** An event-loop stall longer than this starves the requests it touches (default 1000 ms). */
  starvedAfterMs?: number;
}

/** Stretches of time in which this event loop did not run for longer than the threshold. */
class StallLog {
  readonly #thresholdMs: number;
  readonly #stalls: [number, number][] = [];
  #last = performance.now();

  constructor(thresholdMs: number) {
    this.#thresholdMs = thresholdMs;
  }

  /** Called on every tick of a short timer: a long gap since the last one is a stall. */
  tick(now: number): void {
    if (now - this.#last > this.#thresholdMs) this.#stalls.push([this.#last, now]);
    this.#last = now;
  }

  overlaps(from: number, to: number): boolean {
    return this.#stalls.some(([start, end]) => start < to && end > from);
  }
}

export function startLoad(url: string, perSecond: number, options: LoadOptions = {}): { stats: LoadStats; stop(): Promise<LoadStats> } {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const starvedAfterMs = options.starvedAfterMs ?? 1_000;
  // Drop an idle connection well before the listener's keep-alive ends, even when timers run late.
  const agent = new Agent({ keepAlive: true, maxSockets: 64, agentKeepAliveTimeoutBuffer: 5_000 });
  const stats: LoadStats = { sent: 0, failed: 0, failures: {}, starved: 0, byVersion: {}, failedAt: [] };
  const stalls = new StallLog(starvedAfterMs);
  const inFlight = new Set<Promise<void>>();
  const fail = (cause: string) => {
    stats.failed += 1;
    stats.failures[cause] = (stats.failures[cause] ?? 0) + 1;
    stats.failedAt.push(Date.now());
  };
  const once = (dueAt: number) =>
    new Promise<void>((resolve) => {
      stats.sent += 1;
      const sentAt = performance.now();
      const req = request(url, { agent, timeout: timeoutMs }, (res) => {
        res.resume();
        res.on("end", () => {
          const version = res.headers["x-sample-version"];
          const counts = (stats.byVersion[String(version ?? "none")] ??= { total: 0, failed: 0 });
          counts.total += 1;
          const status = res.statusCode ?? 0;
          if (status >= 500) {
            counts.failed += 1;
            fail(`${status} from ${version === undefined ? "load balancer" : String(version)}`);
          }
          resolve();
        });
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", (err) => {
        const now = performance.now();
        stalls.tick(now);
        if (sentAt - dueAt > starvedAfterMs || stalls.overlaps(dueAt, now)) stats.starved += 1;
        else fail(err.message === "timeout" ? "timeout" : "reset");
        resolve();
      });
      req.end();
    });
  const started = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    stalls.tick(now);
    const due = Math.floor(((now - started) / 1000) * perSecond) - stats.sent;
    for (let i = 0; i < due; i += 1) {
      const dueAt = started + ((stats.sent + 1) / perSecond) * 1000;
      const pending = once(dueAt).finally(() => inFlight.delete(pending));
      inFlight.add(pending);
    }
  }, 10);
  return {
    stats,
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
      agent.destroy();
      return stats;
    },
  };
}
