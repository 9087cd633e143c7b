// The emulated ALB where a judge needs it to be faithful: what the balancer answers when a target
// hangs, refuses connections, crash-loops or is missing, and which CloudWatch metric records it,
// through the real SDK clients and real HTTP.
import { GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { UpdateServiceCommand } from "@aws-sdk/client-ecs";
import {
  DescribeLoadBalancerAttributesCommand,
  DescribeTargetHealthCommand,
  ModifyLoadBalancerAttributesCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startAwsEmulator, type AwsEmulator, type SampleBehaviour, type SampleWorld } from "./index.ts";
import { clients, countBy, describeService, get, load, sampleVersion, waitFor, waitSteady } from "./test-helpers.ts";

let emu: AwsEmulator;
let world: SampleWorld;
let c: ReturnType<typeof clients>;

beforeEach(async () => {
  // Checks slower than a task takes to start, so a task that dies at start is never seen unhealthy.
  emu = await startAwsEmulator({ healthCheckIntervalMs: 500 });
  world = await emu.seedSampleWorld();
  c = clients(emu);
  await waitSteady(c.ecs, world, world.services.blue.name);
});
afterEach(() => emu.close());

const lbDimension = () => world.loadBalancerArn.split(":loadbalancer/")[1] ?? "";
const tgDimension = (arn: string) => arn.slice(arn.indexOf("targetgroup/"));

/** One statistic of one metric since `start`, per 1-second bucket, as CloudWatch answers it. */
async function series(name: string, stat: string, start: Date, targetGroupArn?: string): Promise<number[]> {
  const dimensions = [{ Name: "LoadBalancer", Value: lbDimension() }];
  if (targetGroupArn) dimensions.push({ Name: "TargetGroup", Value: tgDimension(targetGroupArn) });
  const out = await c.cw.send(
    new GetMetricDataCommand({
      StartTime: start,
      EndTime: new Date(Date.now() + 1000),
      MetricDataQueries: [{ Id: "m", MetricStat: { Metric: { Namespace: "AWS/ApplicationELB", MetricName: name, Dimensions: dimensions }, Period: 1, Stat: stat } }],
    }),
  );
  return out.MetricDataResults?.[0]?.Values ?? [];
}

/** Host counts are sampled every second: waits for the first sample since `start`. */
const hostCounts = (name: string, stat: string, start: Date) =>
  waitFor(`${name} since ${start.toISOString()}`, async () => {
    const values = await series(name, stat, start, world.targetGroups.green);
    return values.length > 0 && values;
  });

const total = async (name: string, start: Date, targetGroupArn?: string) => (await series(name, "Sum", start, targetGroupArn)).reduce((a, b) => a + b, 0);

/** Green runs `behaviour` with ECS's patience for failing health checks stretched past the test. */
async function runGreen(tag: string, behaviour: SampleBehaviour, desiredCount = 2): Promise<void> {
  const taskDefinition = await sampleVersion(emu, c.ecs, tag, behaviour);
  await c.ecs.send(
    new UpdateServiceCommand({ cluster: world.clusterArn, service: world.services.green.name, taskDefinition, desiredCount, healthCheckGracePeriodSeconds: 600 }),
  );
}

const greenStates = async () =>
  ((await c.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: world.targetGroups.green }))).TargetHealthDescriptions ?? []).map((d) => d.TargetHealth?.State);

const allGreen = (state: string) => async () => {
  const states = await greenStates();
  return states.length === 2 && states.every((s) => s === state);
};

describe("the emulated ALB's answers and metrics when targets fail", () => {
  it("answers 504 once a hanging target stays silent past the idle timeout set through ModifyLoadBalancerAttributes", async () => {
    const attributes = await c.elb.send(
      new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: world.loadBalancerArn, Attributes: [{ Key: "idle_timeout.timeout_seconds", Value: "1" }] }),
    );
    expect(attributes.Attributes).toEqual([{ Key: "idle_timeout.timeout_seconds", Value: "1" }]);
    expect((await c.elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: world.loadBalancerArn }))).Attributes).toEqual([
      { Key: "idle_timeout.timeout_seconds", Value: "1" },
    ]);
    await runGreen("hang", { version: "hang", hang: true });
    await waitFor("green healthy while hanging", allGreen("healthy"));
    const start = new Date();

    const results = await load(`${world.listeners.test.url}/`, 6, 6);

    expect(results.map((r) => r.status)).toEqual([504, 504, 504, 504, 504, 504]);
    // The balancer chose a target for each: RequestCount holds them, no target code does.
    expect(await total("RequestCount", start, world.targetGroups.green)).toBe(6);
    for (const code of ["2XX", "3XX", "4XX", "5XX"]) expect(await series(`HTTPCode_Target_${code}_Count`, "Sum", start, world.targetGroups.green)).toEqual([]);
    expect(await series("TargetResponseTime", "Average", start, world.targetGroups.green)).toEqual([]);
    expect(await series("TargetConnectionErrorCount", "Sum", start, world.targetGroups.green)).toEqual([]);
    expect(await total("HTTPCode_ELB_504_Count", start)).toBe(6);
    expect(await total("HTTPCode_ELB_5XX_Count", start)).toBe(6);
    // The balancer's own codes are published per load balancer only, as on AWS.
    expect(await series("HTTPCode_ELB_504_Count", "Sum", start, world.targetGroups.green)).toEqual([]);
    expect(Math.min(...(await hostCounts("HealthyHostCount", "Minimum", start)))).toBe(2);
  });

  it("rejects an idle timeout AWS would reject, and keeps the one it had", async () => {
    const set = (Value: string) =>
      c.elb.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: world.loadBalancerArn, Attributes: [{ Key: "idle_timeout.timeout_seconds", Value }] }));
    await expect(set("0")).rejects.toThrow(/between 1 and 4000/);
    await expect(set("4001")).rejects.toThrow(/between 1 and 4000/);
    const now = await c.elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: world.loadBalancerArn }));
    expect(now.Attributes).toEqual([{ Key: "idle_timeout.timeout_seconds", Value: "60" }]);
  });

  it("answers 502 and counts a target connection error for each request to tasks that refuse connections, failing open to them", async () => {
    await runGreen("refuse", { version: "refuse", refuseConnections: true });
    await waitFor("green unhealthy", allGreen("unhealthy"));
    const start = new Date();

    const results = await load(`${world.listeners.test.url}/`, 10, 4);

    expect(countBy(results, (r) => String(r.status))).toEqual({ 502: 10 });
    expect(await total("RequestCount", start, world.targetGroups.green)).toBe(10);
    expect(await total("TargetConnectionErrorCount", start, world.targetGroups.green)).toBe(10);
    expect(await total("HTTPCode_ELB_502_Count", start)).toBe(10);
    expect(await series("HTTPCode_Target_5XX_Count", "Sum", start, world.targetGroups.green)).toEqual([]);
    expect(await hostCounts("UnHealthyHostCount", "Maximum", start)).toContain(2);
    expect(Math.max(...(await hostCounts("HealthyHostCount", "Maximum", start)))).toBe(0);
  });

  it("fails open: with every target unhealthy, the targets still serve", async () => {
    await runGreen("sick", { version: "sick", failHealthCheck: true });
    // Unhealthy because /health answers 503, not because the tasks are still starting.
    await waitFor("green answering its health checks with 503", async () => {
      const { TargetHealthDescriptions: targets = [] } = await c.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: world.targetGroups.green }));
      return targets.length === 2 && targets.every((d) => d.TargetHealth?.Reason === "Target.ResponseCodeMismatch");
    });
    const start = new Date();

    const results = await load(`${world.listeners.test.url}/`, 10, 4);

    expect(countBy(results, (r) => `${r.status} ${r.version}`)).toEqual({ "200 sick": 10 });
    expect(await total("HTTPCode_Target_2XX_Count", start, world.targetGroups.green)).toBe(10);
  });

  it("answers 503 by itself for a crash-looping or empty target group, which no target group's metric records", async () => {
    await runGreen("crash", { version: "crash", exitAtStart: true });
    // ECS keeps replacing the tasks that die as they start.
    await waitFor("tasks replaced", async () => ((await describeService(c.ecs, world, world.services.green.name)).deployments?.[0]?.failedTasks ?? 0) >= 2);
    const start = new Date();

    const crashLoop = await load(`${world.listeners.test.url}/`, 10, 2);
    await c.ecs.send(new UpdateServiceCommand({ cluster: world.clusterArn, service: world.services.green.name, desiredCount: 0 }));
    await waitFor("green empty", async () => (await greenStates()).length === 0);
    const empty = await load(`${world.listeners.test.url}/`, 5, 1);

    expect(countBy([...crashLoop, ...empty], (r) => String(r.status))).toEqual({ 503: 15 });
    expect(await series("RequestCount", "Sum", start, world.targetGroups.green)).toEqual([]);
    expect(await series("RequestCount", "Sum", start)).toEqual([]);
    expect(await total("HTTPCode_ELB_503_Count", start)).toBe(15);
    expect(await total("HTTPCode_ELB_5XX_Count", start)).toBe(15);
  });

  it("serves health checks until the first real request, then refuses every connection (onFirstRequest: refuse)", async () => {
    await runGreen("refuse-later", { version: "refuse-later", onFirstRequest: "refuse" });
    await waitFor("green healthy before any real request", allGreen("healthy"));
    const start = new Date();

    const results = await load(`${world.listeners.test.url}/`, 8, 1);

    // Each task's first request is cut on an open connection; every later one finds the port closed.
    expect(countBy(results, (r) => String(r.status))).toEqual({ 502: 8 });
    expect(await total("TargetConnectionErrorCount", start, world.targetGroups.green)).toBe(6);
    await waitFor("green unhealthy", allGreen("unhealthy"));
  });

  it("dies at its first real request and is replaced (onFirstRequest: exit)", async () => {
    await runGreen("crash-later", { version: "crash-later", onFirstRequest: "exit" });
    await waitFor("green healthy before any real request", allGreen("healthy"));

    const results = await load(`${world.listeners.test.url}/`, 2, 1);

    expect(countBy(results, (r) => String(r.status))).toEqual({ 502: 2 });
    await waitFor("tasks replaced", async () => ((await describeService(c.ecs, world, world.services.green.name)).deployments?.[0]?.failedTasks ?? 0) >= 2);
  });

  it("reports a slow version's TargetResponseTime beside a fast one's", async () => {
    await runGreen("slow", { version: "slow", latencyMs: 300 });
    await waitSteady(c.ecs, world, world.services.green.name);
    const start = new Date();

    await load(`${world.listeners.test.url}/`, 8, 4);
    await load(`${world.listeners.production.url}/`, 8, 4);

    expect(Math.min(...(await series("TargetResponseTime", "Minimum", start, world.targetGroups.green)))).toBeGreaterThanOrEqual(0.3);
    expect(Math.max(...(await series("TargetResponseTime", "Maximum", start, world.targetGroups.blue)))).toBeLessThan(0.3);
  });

  it("draws each request's error at random: failures are not evenly spaced as a counter would make them", async () => {
    await runGreen("noisy", { version: "noisy", errorRate: 0.2, seed: 7 }, 1);
    await waitSteady(c.ecs, world, world.services.green.name);

    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) statuses.push((await get(`${world.listeners.test.url}/`)).status);

    const failedAt = statuses.flatMap((status, i) => (status === 500 ? [i] : []));
    expect(failedAt.length).toBeGreaterThan(15);
    expect(failedAt.length).toBeLessThan(65);
    const gaps = new Set(failedAt.slice(1).map((at, i) => at - (failedAt[i] ?? 0)));
    expect(gaps.size).toBeGreaterThan(2);
  });
});
