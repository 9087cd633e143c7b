// When things happen in the emulator. Without a time scale, everything happens as fast as the
// processes allow (what most tests want). With one, AWS's documented timings apply, shrunk in
// proportion: at 1/20, a 30 s health-check interval lasts 1.5 s and the order of events is AWS's.
import type { Publication } from "./cloudwatch.ts";
import type { HealthCheckSettings } from "./targets.ts";

/** AWS's defaults, in AWS's seconds. */
export const AWS_DEFAULTS = {
  healthCheckIntervalSeconds: 30,
  healthCheckTimeoutSeconds: 5,
  healthyThresholdCount: 5,
  unhealthyThresholdCount: 2,
  deregistrationDelaySeconds: 300,
  idleTimeoutSeconds: 60,
  /**
   * AWS says a listener or rule change reaches every load balancer node within "a short time"
   * and gives no figure; a few seconds is our working assumption.
   */
  propagationSeconds: 5,
  /** ALB metrics come per clock-aligned minute. */
  metricPeriodSeconds: 60,
  /**
   * How long after its minute ends a datapoint shows in GetMetricData. AWS gives no figure; 1–3
   * minutes is our working assumption, and we take the middle.
   */
  metricPublicationDelaySeconds: 120,
} as const;

export interface TimingOptions {
  /** Real seconds per AWS second, e.g. 1/20. Unset: the fast world, where nothing waits. */
  timeScale?: number;
  /** Health-check interval of every target group (real ms). */
  healthCheckIntervalMs?: number;
  /** Longest a leaving target drains (real ms). */
  deregistrationDelayMs?: number;
  /** Idle timeout of every load balancer (real ms). */
  idleTimeoutMs?: number;
  /** From a listener or rule change until requests follow it (real ms); Describe* shows it at once. */
  propagationDelayMs?: number;
  /** From the end of a metric's minute (at a time scale; else its request) until GetMetricData returns it (real ms). */
  metricPublicationDelayMs?: number;
}

export interface Timing {
  health: Omit<HealthCheckSettings, "path" | "drainFully">;
  /**
   * A leaving target stays `draining` for the whole delay (AWS, whose balancer holds connections
   * to it open) instead of leaving as soon as its last request ends.
   */
  drainFully: boolean;
  idleTimeoutMs: number;
  propagationDelayMs: number;
  metrics: Publication;
  /** Real ms → AWS seconds, for what Describe* reports. */
  awsSeconds(ms: number): number;
  /** AWS seconds → real ms, for what callers set. */
  realMs(awsSeconds: number): number;
}

const FAST_HEALTH_CHECK_MS = 200;
const FAST_DEREGISTRATION_DELAY_MS = 5000;

export function timing(options: TimingOptions = {}): Timing {
  const scale = options.timeScale;
  if (scale !== undefined && !(scale > 0 && scale <= 1)) throw new Error(`timeScale must be in (0, 1], got ${scale}`);
  const real = (awsSeconds: number) => awsSeconds * 1000 * (scale ?? 1);
  const awsSeconds = (ms: number) => Math.max(1, Math.round(ms / 1000 / (scale ?? 1)));
  if (scale === undefined) {
    const interval = options.healthCheckIntervalMs ?? FAST_HEALTH_CHECK_MS;
    return {
      health: {
        intervalMs: interval,
        timeoutMs: Math.max(interval, 100),
        healthyThreshold: 2,
        unhealthyThreshold: 2,
        deregistrationDelayMs: options.deregistrationDelayMs ?? FAST_DEREGISTRATION_DELAY_MS,
      },
      drainFully: false,
      idleTimeoutMs: options.idleTimeoutMs ?? real(AWS_DEFAULTS.idleTimeoutSeconds),
      propagationDelayMs: options.propagationDelayMs ?? 0,
      metrics: { bucketMs: 0, delayMs: options.metricPublicationDelayMs ?? 0 },
      awsSeconds,
      realMs: real,
    };
  }
  return {
    health: {
      intervalMs: options.healthCheckIntervalMs ?? real(AWS_DEFAULTS.healthCheckIntervalSeconds),
      timeoutMs: real(AWS_DEFAULTS.healthCheckTimeoutSeconds),
      healthyThreshold: AWS_DEFAULTS.healthyThresholdCount,
      unhealthyThreshold: AWS_DEFAULTS.unhealthyThresholdCount,
      deregistrationDelayMs: options.deregistrationDelayMs ?? real(AWS_DEFAULTS.deregistrationDelaySeconds),
    },
    drainFully: true,
    idleTimeoutMs: options.idleTimeoutMs ?? real(AWS_DEFAULTS.idleTimeoutSeconds),
    propagationDelayMs: options.propagationDelayMs ?? real(AWS_DEFAULTS.propagationSeconds),
    metrics: {
      bucketMs: real(AWS_DEFAULTS.metricPeriodSeconds),
      delayMs: options.metricPublicationDelayMs ?? real(AWS_DEFAULTS.metricPublicationDelaySeconds),
    },
    awsSeconds,
    realMs: real,
  };
}
