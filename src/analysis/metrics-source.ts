import type { WindowSample } from "../deploy/api.ts";

export interface TimeWindow {
  /** Epoch milliseconds, inclusive. */
  start: number;
  /** Epoch milliseconds, exclusive. */
  end: number;
}

/** What the load balancer recorded for one target group over a window: requests, answers by class, connection errors, healthy hosts, latency. */
export interface MetricsSource {
  sample(targetGroupArn: string, window: TimeWindow): Promise<WindowSample>;
}
