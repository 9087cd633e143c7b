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
  it("reports each target group's requests, 5xx and p99 as the clients saw them, in one GetMetricData call", async () => {
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
    expect(greenSample).toEqual({ requests: 80, errors: errors(green), p99Ms: expect.any(Number) });
    expect(greenSample.p99Ms).toBeGreaterThanOrEqual(20);
    expect(blueSample).toEqual({ requests: 60, errors: errors(blue), p99Ms: expect.any(Number) });
    expect(calls.map((c) => c.command)).toEqual(["GetMetricDataCommand", "GetMetricDataCommand"]);
  });

  it("gives zeros and no p99 for a window without traffic, finding the load balancer only once", async () => {
    const metrics = new CloudWatchMetrics(t.aws);
    const calls = recordCalls(t.aws.elbv2);
    const long = Date.now() - 3600_000;
    expect(await metrics.sample(t.world.targetGroups.blue, { start: long, end: long + 60_000 })).toEqual({ requests: 0, errors: 0, p99Ms: null });
    expect(await metrics.sample(t.world.targetGroups.blue, { start: long, end: long + 5_000 })).toEqual({ requests: 0, errors: 0, p99Ms: null });
    expect(calls.map((c) => c.command)).toEqual(["DescribeTargetGroupsCommand"]);
  });

  it("asks for one period that covers the window, in steps CloudWatch accepts", () => {
    const period = (ms: number) => metricPeriodSeconds({ start: 1_000_000, end: 1_000_000 + ms });
    expect([300, 1000, 7000, 30_000, 45_000, 60_000, 61_000, 300_000].map(period)).toEqual([1, 1, 10, 30, 60, 60, 120, 300]);
  });
});
