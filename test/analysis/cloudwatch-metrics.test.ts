// CloudWatchMetrics against the emulated ALB: what clients saw through the listeners is what
// sample() reports per target group.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudWatchMetrics, metricPeriodSeconds } from "../../src/analysis/cloudwatch-metrics.ts";
import { load } from "../world/aws/test-helpers.ts";
import { recordCalls, runOnGreen, startWorld, type TestWorld } from "../aws/world.ts";

let t: TestWorld;
beforeAll(async () => {
  t = await startWorld();
  // Green (behind the test listener) answers a quarter of its requests with 500, each after 20 ms.
  await runOnGreen(t, "v2-bad", { version: "v2-bad", errorRate: 0.25, latencyMs: 20 });
});
afterAll(() => t.close());

describe("CloudWatchMetrics", () => {
  it("reports each target group's requests, answers, 5xx and latency as the clients saw them, in one GetMetricData call", async () => {
    const metrics = new CloudWatchMetrics(t.aws);
    const start = Date.now();
    const blue = await load(`${t.world.listeners.production.url}/`, 60);
    const green = await load(`${t.world.listeners.test.url}/`, 80);
    const window = { start, end: Date.now() + 1 };
    const calls = recordCalls(t.aws.cloudwatch);

    const greenSample = await metrics.sample(t.world.targetGroups.green, window);
    const blueSample = await metrics.sample(t.world.targetGroups.blue, window);

    const errors = (rs: { status: number }[]) => rs.filter((r) => r.status >= 500).length;
    expect(errors(green)).toBeGreaterThan(0);
    expect(greenSample).toEqual({
      requests: 80,
      responses: 80,
      target5xx: errors(green),
      connectionErrors: 0,
      // Two healthy tasks, sampled once a second: a window shorter than that may hold no sample.
      healthyHosts: greenSample.healthyHosts === null ? null : 2,
      loadBalancer5xx: 0,
      p50Ms: expect.any(Number),
      p99Ms: expect.any(Number),
    });
    expect(greenSample.p99Ms).toBeGreaterThanOrEqual(20);
    expect(greenSample.p99Ms).toBeGreaterThanOrEqual(greenSample.p50Ms!);
    expect(blueSample).toMatchObject({ requests: 60, responses: 60, target5xx: errors(blue), loadBalancer5xx: 0 });
    expect(calls.map((c) => c.command)).toEqual(["GetMetricDataCommand", "GetMetricDataCommand"]);
  });

  it("asks CloudWatch for AWS's metric names, per target group and load balancer, and the balancer's own 5xx per load balancer only", async () => {
    const metrics = new CloudWatchMetrics(t.aws);
    const calls = recordCalls(t.aws.cloudwatch);
    await metrics.sample(t.world.targetGroups.green, { start: Date.now() - 10_000, end: Date.now() });
    type Query = { Id: string; MetricStat: { Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] }; Stat: string } };
    const queries = (calls[0]!.input.MetricDataQueries as Query[]).map((q) => [q.MetricStat.Metric.MetricName, q.MetricStat.Stat, q.MetricStat.Metric.Dimensions.map((d) => d.Name).join("+")]);
    expect(queries).toEqual([
      ["RequestCount", "Sum", "TargetGroup+LoadBalancer"],
      ["HTTPCode_Target_2XX_Count", "Sum", "TargetGroup+LoadBalancer"],
      ["HTTPCode_Target_3XX_Count", "Sum", "TargetGroup+LoadBalancer"],
      ["HTTPCode_Target_4XX_Count", "Sum", "TargetGroup+LoadBalancer"],
      ["HTTPCode_Target_5XX_Count", "Sum", "TargetGroup+LoadBalancer"],
      ["TargetConnectionErrorCount", "Sum", "TargetGroup+LoadBalancer"],
      ["HealthyHostCount", "Maximum", "TargetGroup+LoadBalancer"],
      ["TargetResponseTime", "p50", "TargetGroup+LoadBalancer"],
      ["TargetResponseTime", "p99", "TargetGroup+LoadBalancer"],
      ["HTTPCode_ELB_5XX_Count", "Sum", "LoadBalancer"],
    ]);
    const dimensions = (calls[0]!.input.MetricDataQueries as Query[])[0]!.MetricStat.Metric.Dimensions;
    expect(dimensions.map((d) => d.Value)).toEqual([expect.stringMatching(/^targetgroup\/[^/]+\/[^/]+$/), expect.stringMatching(/^app\/[^/]+\/[^/]+$/)]);
  });

  it("gives zeros and no latency for a window without traffic (CloudWatch has no datapoints), finding the load balancer only once", async () => {
    const metrics = new CloudWatchMetrics(t.aws);
    const calls = recordCalls(t.aws.elbv2);
    const long = Date.now() - 3600_000;
    const nothing = { requests: 0, responses: 0, target5xx: 0, connectionErrors: 0, healthyHosts: null, loadBalancer5xx: 0, p50Ms: null, p99Ms: null };
    expect(await metrics.sample(t.world.targetGroups.blue, { start: long, end: long + 60_000 })).toEqual(nothing);
    expect(await metrics.sample(t.world.targetGroups.blue, { start: long, end: long + 5_000 })).toEqual(nothing);
    expect(calls.map((c) => c.command)).toEqual(["DescribeTargetGroupsCommand"]);
  });

  it("asks for one period that covers the window, in steps CloudWatch accepts", () => {
    const period = (ms: number) => metricPeriodSeconds({ start: 1_000_000, end: 1_000_000 + ms });
    expect([300, 1000, 7000, 30_000, 45_000, 60_000, 61_000, 300_000].map(period)).toEqual([1, 1, 10, 30, 60, 60, 120, 300]);
  });
});
