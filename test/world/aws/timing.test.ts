// AWS's clock at a time scale: target groups report AWS's default health checks, a new target
// needs five passing checks, and a leaving one stays draining for the whole deregistration delay
// while its task keeps running. Only lower bounds on time are asserted: a busy machine can make
// things slower, never faster.
import { GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { DescribeTasksCommand, ListTasksCommand, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import {
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsEmulator, type AwsEmulator, type SampleWorld } from "./index.ts";
import { clients, get, sampleVersion, setWeights, waitFor, waitSteady } from "./test-helpers.ts";
import { AWS_DEFAULTS } from "./timing.ts";

const SCALE = 1 / 30;
const real = (awsSeconds: number) => awsSeconds * 1000 * SCALE;

let emu: AwsEmulator;
let world: SampleWorld;
let c: ReturnType<typeof clients>;

beforeAll(async () => {
  emu = await startAwsEmulator({ timeScale: SCALE });
  world = await emu.seedSampleWorld();
  c = clients(emu);
});
afterAll(() => emu.close());

const greenTargets = async () =>
  (await c.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: world.targetGroups.green }))).TargetHealthDescriptions ?? [];

describe(`the emulator at time scale 1/${1 / SCALE}`, () => {
  it("reports AWS's default health checks and idle timeout in AWS's seconds", async () => {
    const groups = (await c.elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [world.targetGroups.green] }))).TargetGroups ?? [];
    expect(groups.map((g) => [g.HealthCheckIntervalSeconds, g.HealthCheckTimeoutSeconds, g.HealthyThresholdCount, g.UnhealthyThresholdCount])).toEqual([
      [AWS_DEFAULTS.healthCheckIntervalSeconds, AWS_DEFAULTS.healthCheckTimeoutSeconds, AWS_DEFAULTS.healthyThresholdCount, AWS_DEFAULTS.unhealthyThresholdCount],
    ]);
    const attributes = await c.elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: world.loadBalancerArn }));
    expect(attributes.Attributes).toEqual([{ Key: "idle_timeout.timeout_seconds", Value: String(AWS_DEFAULTS.idleTimeoutSeconds) }]);
  });

  it("makes a new target healthy only after the healthy threshold of checks, and drains a leaving one for the whole delay", async () => {
    const taskDefinition = await sampleVersion(emu, c.ecs, "v2", { version: "v2" });
    await c.ecs.send(new UpdateServiceCommand({ cluster: world.clusterArn, service: world.services.green.name, taskDefinition, desiredCount: 1 }));
    await waitFor("green registered", async () => (await greenTargets()).length === 1);
    const registered = performance.now();
    await waitFor("green healthy", async () => (await greenTargets())[0]?.TargetHealth?.State === "healthy", 60_000);
    // Five passing checks, one interval apart (the first may come right after registration, which
    // this test sees a little late).
    expect(performance.now() - registered).toBeGreaterThanOrEqual((AWS_DEFAULTS.healthyThresholdCount - 2) * real(AWS_DEFAULTS.healthCheckIntervalSeconds));

    const taskArns = (await c.ecs.send(new ListTasksCommand({ cluster: world.clusterArn, serviceName: world.services.green.name }))).taskArns ?? [];
    expect(taskArns).toHaveLength(1);
    const task = async () => (await c.ecs.send(new DescribeTasksCommand({ cluster: world.clusterArn, tasks: taskArns }))).tasks?.[0];
    const leaving = performance.now();
    await c.ecs.send(new UpdateServiceCommand({ cluster: world.clusterArn, service: world.services.green.name, desiredCount: 0 }));
    await waitFor("green draining", async () => (await greenTargets())[0]?.TargetHealth?.State === "draining");
    // No request is in flight, yet the target stays draining, and ECS keeps its task running.
    expect((await task())?.lastStatus).toBe("DEACTIVATING");
    await waitFor("green gone", async () => (await greenTargets()).length === 0, 60_000);
    expect(performance.now() - leaving).toBeGreaterThanOrEqual(real(AWS_DEFAULTS.deregistrationDelaySeconds));
    await waitFor("task stopped", async () => (await task())?.lastStatus === "STOPPED");
  }, 90_000);

  it("publishes metrics per clock-aligned minute, only once the publication delay after the minute has passed", async () => {
    const minute = real(AWS_DEFAULTS.metricPeriodSeconds);
    const delay = real(AWS_DEFAULTS.metricPublicationDelaySeconds);
    await waitSteady(c.ecs, world, world.services.blue.name);
    const start = new Date(Math.floor(Date.now() / 1000) * 1000);
    for (let i = 0; i < 20; i++) expect((await get(`${world.listeners.production.url}/`)).status).toBe(200);
    const lastSent = Date.now();

    const lb = world.loadBalancerArn.split(":loadbalancer/")[1] ?? "";
    const requestCount = async () => {
      const out = await c.cw.send(
        new GetMetricDataCommand({
          StartTime: start,
          EndTime: new Date(Date.now() + 1000),
          MetricDataQueries: [
            {
              Id: "m",
              MetricStat: {
                Metric: {
                  Namespace: "AWS/ApplicationELB",
                  MetricName: "RequestCount",
                  Dimensions: [
                    { Name: "LoadBalancer", Value: lb },
                    { Name: "TargetGroup", Value: world.targetGroups.blue.slice(world.targetGroups.blue.indexOf("targetgroup/")) },
                  ],
                },
                Period: 1,
                Stat: "Sum",
              },
            },
          ],
        }),
      );
      const answeredAt = Date.now();
      const result = out.MetricDataResults?.[0];
      const timestamps = (result?.Timestamps ?? []).map((t) => t.getTime());
      // Every datapoint stands for a whole minute that ended at least the delay before the answer.
      for (const t of timestamps) {
        expect(t % minute).toBe(0);
        expect(t + minute + delay).toBeLessThanOrEqual(answeredAt);
      }
      return (result?.Values ?? []).reduce((a, b) => a + b, 0);
    };
    await waitFor("all 20 requests published", async () => (await requestCount()) === 20, 30_000);
    expect(Date.now()).toBeGreaterThanOrEqual(Math.floor(lastSent / minute) * minute + minute + delay);
  }, 60_000);
});

describe("a listener change with a propagation delay", () => {
  const DELAY_MS = 2000;
  let fast: AwsEmulator;
  afterAll(() => fast?.close());

  it("shows in Describe* at once, while requests follow the old weights until it has propagated", async () => {
    fast = await startAwsEmulator({ healthCheckIntervalMs: 100, propagationDelayMs: DELAY_MS });
    const w = await fast.seedSampleWorld();
    const f = clients(fast);
    const taskDefinition = await sampleVersion(fast, f.ecs, "v2", { version: "v2" });
    await f.ecs.send(new UpdateServiceCommand({ cluster: w.clusterArn, service: w.services.green.name, taskDefinition, desiredCount: 1 }));
    await waitSteady(f.ecs, w, w.services.blue.name);
    await waitSteady(f.ecs, w, w.services.green.name);
    expect((await get(`${w.listeners.production.url}/`)).version).toBe("v1");

    const changed = performance.now();
    await setWeights(f.elb, w.listeners.production.arn, [[w.targetGroups.green, 1]]);
    const shown = (await f.elb.send(new DescribeListenersCommand({ ListenerArns: [w.listeners.production.arn] }))).Listeners?.[0];
    expect(shown?.DefaultActions?.[0]?.ForwardConfig?.TargetGroups).toEqual([{ TargetGroupArn: w.targetGroups.green, Weight: 1 }]);

    // Old weights keep answering (v1) until the delay has passed; green serves only after it.
    await waitFor("green serving", async () => (await get(`${w.listeners.production.url}/`)).version === "v2");
    expect(performance.now() - changed).toBeGreaterThanOrEqual(DELAY_MS);
  }, 60_000);
});
