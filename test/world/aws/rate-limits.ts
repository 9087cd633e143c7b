// AWS's API rate limits: token buckets per account and region, one per family of operations.
// A call that finds its bucket empty is answered `Throttling` / `ThrottlingException` and not carried out.
import type { ServiceName } from "./protocols.ts";

export interface Bucket {
  /** Burst: the most calls in one second. */
  capacity: number;
  /** Sustained: tokens added back each second. */
  refillPerSecond: number;
}

export interface BucketRule extends Bucket {
  name: string;
  service: ServiceName;
  /** Which operations draw from this bucket. */
  matches(operation: string): boolean;
}

/**
 * The documented figures. ELBv2: "Describe*" and the other non-mutating calls share 40 tokens
 * refilled at 10/s (Elastic Load Balancing user guide, "Request throttling"). ECS: "cluster read
 * actions" 50 tokens refilled at 20/s (ECS developer guide, "Request throttling"); we apply that
 * read bucket to every ECS read and give writes the smaller one below. The write buckets and
 * CloudWatch's (its GetMetricData quota, in calls per second) are our conservative reading of
 * the Service Quotas console; they are stated here, in one place, so they can be corrected.
 */
export const AWS_RATE_LIMITS: readonly BucketRule[] = [
  { name: "elbv2 Describe*", service: "elbv2", capacity: 40, refillPerSecond: 10, matches: (op) => op.startsWith("Describe") },
  { name: "elbv2 mutating", service: "elbv2", capacity: 20, refillPerSecond: 5, matches: (op) => !op.startsWith("Describe") },
  { name: "ecs read", service: "ecs", capacity: 50, refillPerSecond: 20, matches: (op) => /^(Describe|List)/.test(op) },
  { name: "ecs write", service: "ecs", capacity: 20, refillPerSecond: 5, matches: (op) => !/^(Describe|List)/.test(op) },
  { name: "cloudwatch GetMetricData", service: "cloudwatch", capacity: 50, refillPerSecond: 50, matches: (op) => op === "GetMetricData" },
];

export class RateLimits {
  readonly #rules: readonly BucketRule[];
  readonly #tokens = new Map<string, { tokens: number; at: number }>();
  /** Calls refused for want of a token, by bucket name. */
  readonly throttled = new Map<string, number>();

  constructor(rules: readonly BucketRule[]) {
    this.#rules = rules;
  }

  /** The bucket an operation draws from, if any. */
  bucketOf(service: ServiceName, operation: string): BucketRule | undefined {
    return this.#rules.find((r) => r.service === service && r.matches(operation));
  }

  /** Takes a token; false when the bucket is empty. */
  take(service: ServiceName, operation: string, now = Date.now()): boolean {
    const rule = this.bucketOf(service, operation);
    if (!rule) return true;
    const state = this.#tokens.get(rule.name) ?? { tokens: rule.capacity, at: now };
    state.tokens = Math.min(rule.capacity, state.tokens + ((now - state.at) / 1000) * rule.refillPerSecond);
    state.at = now;
    this.#tokens.set(rule.name, state);
    if (state.tokens < 1) {
      this.throttled.set(rule.name, (this.throttled.get(rule.name) ?? 0) + 1);
      return false;
    }
    state.tokens -= 1;
    return true;
  }
}
