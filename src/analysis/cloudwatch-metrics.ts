// MetricsSource on CloudWatch: the ALB's own figures for one target group (and its load balancer's
// own 5xx) over one window, under AWS's metric names and dimensions.
import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { DescribeTargetGroupsCommand, type ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { WindowSample } from "../deploy/api.ts";
import type { MetricsSource, TimeWindow } from "./metrics-source.ts";

const HIGH_RESOLUTION_PERIODS = [1, 5, 10, 20, 30];
const RESPONSE_CLASSES = [2, 3, 4, 5] as const;

/**
 * One period covering the whole window, as CloudWatch accepts it: 1, 5, 10, 20 or 30 s for short
 * windows (the emulator; real ALB metrics have 60 s resolution), else a multiple of 60 s.
 */
export function metricPeriodSeconds(window: TimeWindow): number {
  const seconds = Math.max(1, Math.ceil((window.end - window.start) / 1000));
  if (seconds >= 60) return Math.ceil(seconds / 60) * 60;
  return HIGH_RESOLUTION_PERIODS.find((p) => p >= seconds) ?? 60;
}

export class CloudWatchMetrics implements MetricsSource {
  readonly #cloudwatch: CloudWatchClient;
  readonly #elbv2: ElasticLoadBalancingV2Client;
  /** Target group ARN → its load balancer's dimension; a group does not move between load balancers mid-deploy. */
  readonly #loadBalancers = new Map<string, Promise<string>>();

  constructor(options: { cloudwatch: CloudWatchClient; elbv2: ElasticLoadBalancingV2Client }) {
    this.#cloudwatch = options.cloudwatch;
    this.#elbv2 = options.elbv2;
  }

  async sample(targetGroupArn: string, window: TimeWindow): Promise<WindowSample> {
    const loadBalancer = { Name: "LoadBalancer", Value: await this.#loadBalancerOf(targetGroupArn) };
    const perGroup = [{ Name: "TargetGroup", Value: targetGroupArn.slice(targetGroupArn.indexOf("targetgroup/")) }, loadBalancer];
    const Period = metricPeriodSeconds(window);
    const query = (Id: string, MetricName: string, Stat: string, Dimensions = perGroup): MetricDataQuery => ({
      Id,
      MetricStat: { Metric: { Namespace: "AWS/ApplicationELB", MetricName, Dimensions }, Period, Stat },
    });
    // Eleven series of at most a couple of datapoints each: one page, so no NextToken to follow.
    const out = await this.#cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(window.start),
        EndTime: new Date(window.end),
        MetricDataQueries: [
          query("requests", "RequestCount", "Sum"),
          ...RESPONSE_CLASSES.map((c) => query(`target${c}`, `HTTPCode_Target_${c}XX_Count`, "Sum")),
          query("connectionErrors", "TargetConnectionErrorCount", "Sum"),
          query("healthy", "HealthyHostCount", "Maximum"),
          query("p50", "TargetResponseTime", "p50"),
          query("p99", "TargetResponseTime", "p99"),
          // The balancer's own 5xx exist per load balancer only, as on AWS.
          query("balancer5xx", "HTTPCode_ELB_5XX_Count", "Sum", [loadBalancer]),
        ],
      }),
    );
    const values = (id: string) => {
      const result = out.MetricDataResults?.find((r) => r.Id === id);
      if (result?.StatusCode !== "Complete") throw new Error(`CloudWatch ${id} of ${targetGroupArn}: ${result?.StatusCode ?? "missing"}`);
      return result.Values ?? [];
    };
    // CloudWatch has no datapoint where nothing happened: an absent count is zero.
    const sum = (id: string) => Math.round(values(id).reduce((a, b) => a + b, 0));
    // A window split across two periods has two percentiles; the larger is the conservative figure. Seconds → ms.
    const latency = (id: string) => (values(id).length > 0 ? Math.max(...values(id)) * 1000 : null);
    const healthy = values("healthy");
    return {
      requests: sum("requests"),
      responses: RESPONSE_CLASSES.reduce((total, c) => total + sum(`target${c}`), 0),
      target5xx: sum("target5"),
      connectionErrors: sum("connectionErrors"),
      healthyHosts: healthy.length > 0 ? Math.max(...healthy) : null,
      loadBalancer5xx: sum("balancer5xx"),
      p50Ms: latency("p50"),
      p99Ms: latency("p99"),
    };
  }

  #loadBalancerOf(targetGroupArn: string): Promise<string> {
    let found = this.#loadBalancers.get(targetGroupArn);
    if (!found) {
      found = this.#describeLoadBalancer(targetGroupArn);
      this.#loadBalancers.set(targetGroupArn, found);
      found.catch(() => this.#loadBalancers.delete(targetGroupArn));
    }
    return found;
  }

  async #describeLoadBalancer(targetGroupArn: string): Promise<string> {
    const out = await this.#elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [targetGroupArn] }));
    const lbArn = out.TargetGroups?.[0]?.LoadBalancerArns?.[0];
    if (!lbArn) throw new Error(`target group ${targetGroupArn} is not attached to a load balancer, so it has no ALB metrics`);
    // `arn:…:loadbalancer/app/name/id` → `app/name/id`
    return lbArn.slice(lbArn.indexOf(":loadbalancer/") + ":loadbalancer/".length);
  }
}
