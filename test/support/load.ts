import { Agent, request } from "node:http";

export interface LoadStats {
  sent: number;
  failed: number;
  /** Responses by the `x-sample-version` that served them, and how many of those were 5xx. */
  byVersion: Record<string, { total: number; failed: number }>;
  /** When each failed request finished (epoch ms). */
  failedAt: number[];
}

/** Real HTTP load at a steady rate through a listener, counted per serving version. */
export function startLoad(url: string, perSecond: number): { stats: LoadStats; stop(): Promise<LoadStats> } {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const stats: LoadStats = { sent: 0, failed: 0, byVersion: {}, failedAt: [] };
  const inFlight = new Set<Promise<void>>();
  const once = () =>
    new Promise<void>((resolve) => {
      stats.sent += 1;
      const fail = () => {
        stats.failed += 1;
        stats.failedAt.push(Date.now());
        resolve();
      };
      const req = request(url, { agent, timeout: 5_000 }, (res) => {
        res.resume();
        res.on("end", () => {
          const version = String(res.headers["x-sample-version"] ?? "none");
          const counts = (stats.byVersion[version] ??= { total: 0, failed: 0 });
          counts.total += 1;
          if ((res.statusCode ?? 0) >= 500) {
            counts.failed += 1;
            fail();
          } else resolve();
        });
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", fail);
      req.end();
    });
  const started = Date.now();
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - started) / 1000) * perSecond) - stats.sent;
    for (let i = 0; i < due; i += 1) {
      const pending = once().finally(() => inFlight.delete(pending));
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
