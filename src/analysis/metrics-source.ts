import type { WindowSample } from "../deploy/api.ts";

export interface TimeWindow {
  /** Epoch milliseconds, inclusive. */
  start: number;
  /** Epoch milliseconds, exclusive. */
  end: number;
}

/** Request, 5xx and p99 latency figures of one target group over a window. */
export interface MetricsSource {
  sample(targetGroupArn: string, window: TimeWindow): Promise<WindowSample>;
}
