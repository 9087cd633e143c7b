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
   * Requests that reset or timed out after this process's event loop lagged past the threshold
   * over their life (counted from when each was due, so a late start counts). Client and emulated
   * balancer share that loop; a user's client and a real balancer would not have been starved, so
   * these are not in `failed`.
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
  /** Event-loop lag, summed over a request's life from when it was due, that starves it (default 1000 ms). */
  starvedAfterMs?: number;
}

/**
 * How late this event loop has run, summed: every tick of a short timer adds how much later than
 * asked it fired. A request whose life saw a lot of it failed because this process (the client,
 * and the emulated balancer beside it) could not keep up, not because of anything a user's own
 * client would meet.
 */
class LoopLag {
  readonly #everyMs: number;
  #last = performance.now();
  #totalMs = 0;

  constructor(everyMs: number) {
    this.#everyMs = everyMs;
  }

  /** Lag summed up to now (monotonic clock), the current tick's included. */
  totalAt(now: number): number {
    return this.#totalMs + Math.max(0, now - this.#last - this.#everyMs);
  }

  tick(now: number): void {
    this.#totalMs = this.totalAt(now);
    this.#last = now;
  }
}

const TICK_MS = 10;

export function startLoad(url: string, perSecond: number, options: LoadOptions = {}): { stats: LoadStats; stop(): Promise<LoadStats> } {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const starvedAfterMs = options.starvedAfterMs ?? 1_000;
  // Drop an idle connection well before the listener's keep-alive ends, even when timers run late.
  const agent = new Agent({ keepAlive: true, maxSockets: 64, agentKeepAliveTimeoutBuffer: 5_000 });
  const stats: LoadStats = { sent: 0, failed: 0, failures: {}, starved: 0, byVersion: {}, failedAt: [] };
  const lag = new LoopLag(TICK_MS);
  const inFlight = new Set<Promise<void>>();
  const fail = (cause: string) => {
    stats.failed += 1;
    stats.failures[cause] = (stats.failures[cause] ?? 0) + 1;
    stats.failedAt.push(Date.now());
  };
  const once = (dueAt: number, lagAtDue: number) =>
    new Promise<void>((resolve) => {
      stats.sent += 1;
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
        if (lag.totalAt(performance.now()) - lagAtDue > starvedAfterMs) stats.starved += 1;
        else fail(err.message === "timeout" ? "timeout" : "reset");
        resolve();
      });
      req.end();
    });
  const started = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lag.tick(now);
    const due = Math.floor(((now - started) / 1000) * perSecond) - stats.sent;
    for (let i = 0; i < due; i += 1) {
      // A request sent late by a slow tick counts the lag it waited through since it was due.
      const dueAt = started + ((stats.sent + 1) / perSecond) * 1000;
      const pending = once(dueAt, lag.totalAt(dueAt)).finally(() => inFlight.delete(pending));
      inFlight.add(pending);
    }
  }, TICK_MS);
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
