// Real HTTP through the emulated ALB: weighted routing, draining, and CloudWatch figures that
// match what the clients saw.
import { GetMetricDataCommand, type MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { DescribeTargetHealthCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsEmulator, type AwsEmulator, type SampleWorld } from "./index.ts";
import { clients, countBy, describeService, get, load, sampleVersion, setWeights, waitFor, waitSteady, type LoadResult } from "./test-helpers.ts";

let emu: AwsEmulator;
let world: SampleWorld;
let c: ReturnType<typeof clients>;

beforeAll(async () => {
  emu = await startAwsEmulator({ healthCheckIntervalMs: 50 });
  world = await emu.seedSampleWorld();
  c = clients(emu);
  await waitSteady(c.ecs, world, world.services.blue.name);
});
afterAll(() => emu.close());

async function deployGreen(tag: string, behaviour: Parameters<AwsEmulator["pushSampleImage"]>[1], desiredCount = 2) {
  const td = await sampleVersion(emu, c.ecs, tag, behaviour);
  await c.ecs.send(new UpdateServiceCommand({ cluster: world.clusterArn, service: world.services.green.name, taskDefinition: td, desiredCount }));
  await waitSteady(c.ecs, world, world.services.green.name);
}

/** Sums of one statistic per target group over [start, now], as CloudWatch reports them. */
async function metric(name: string, stat: string, start: Date): Promise<{ blue: number[]; green: number[] }> {
  const lb = world.loadBalancerArn.split(":loadbalancer/")[1] ?? "";
  const query = (id: string, tg: string): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: "AWS/ApplicationELB",
        MetricName: name,
        Dimensions: [
          { Name: "TargetGroup", Value: tg.split(":").pop() },
          { Name: "LoadBalancer", Value: lb },
        ],
      },
      Period: 1,
      Stat: stat,
    },
  });
  const out = await c.cw.send(
    new GetMetricDataCommand({
      StartTime: start,
      EndTime: new Date(Date.now() + 1000),
      MetricDataQueries: [query("blue", world.targetGroups.blue), query("green", world.targetGroups.green)],
    }),
  );
  const values = (id: string) => out.MetricDataResults?.find((r) => r.Id === id)?.Values ?? [];
  return { blue: values("blue"), green: values("green") };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe("ALB listener traffic", () => {
  it("follows weights 100/0 → 90/10 → 0/100 under load with no failed request, and CloudWatch counts every request", async () => {
    await deployGreen("v2", { version: "v2" });
    const start = new Date();
    const { blue, green } = world.targetGroups;
    await setWeights(c.elb, world.listeners.production.arn, [
      [blue, 100],
      [green, 0],
    ]);
    let phase = "100/0";
    const stop = new AbortController();
    const results: (LoadResult & { phase: string })[] = [];
    const worker = async () => {
      while (!stop.signal.aborted) {
        const sentIn = phase;
        const r = await get(`${world.listeners.production.url}/`).catch((err: Error) => ({ status: 0, body: err.message, version: undefined }));
        // A request belongs to a phase only if it was sent and answered wholly inside it.
        results.push({ ...r, phase: sentIn === phase ? sentIn : "switching" });
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    const reach = (p: string, n: number) => waitFor(`${n} requests in ${p}`, async () => results.filter((r) => r.phase === p).length >= n);

    await reach("100/0", 150);
    phase = "switching";
    await setWeights(c.elb, world.listeners.production.arn, [
      [blue, 90],
      [green, 10],
    ]);
    phase = "90/10";
    await reach("90/10", 500);
    phase = "switching";
    await setWeights(c.elb, world.listeners.production.arn, [
      [blue, 0],
      [green, 100],
    ]);
    phase = "0/100";
    await reach("0/100", 150);
    stop.abort();
    await Promise.all(workers);

    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    const split = (p: string) => countBy(results.filter((r) => r.phase === p), (r) => r.version);
    expect(split("100/0")).toEqual({ v1: results.filter((r) => r.phase === "100/0").length });
    const canary = split("90/10");
    const greenShare = (canary.v2 ?? 0) / ((canary.v1 ?? 0) + (canary.v2 ?? 0));
    expect(greenShare).toBeGreaterThan(0.07);
    expect(greenShare).toBeLessThan(0.13);
    expect(split("0/100")).toEqual({ v2: results.filter((r) => r.phase === "0/100").length });

    const counted = countBy(results, (r) => r.version);
    const requests = await metric("RequestCount", "Sum", start);
    expect(sum(requests.blue)).toBe(counted.v1);
    expect(sum(requests.green)).toBe(counted.v2);
  });

  it("shows a version with 20% errors in its own target group's 5XX count and not in the other", async () => {
    await setWeights(c.elb, world.listeners.production.arn, [[world.targetGroups.blue, 1]]);
    await deployGreen("v3-bad", { version: "v3-bad", errorRate: 0.2, latencyMs: 20 });
    const start = new Date();
    await setWeights(c.elb, world.listeners.production.arn, [
      [world.targetGroups.blue, 50],
      [world.targetGroups.green, 50],
    ]);
    const results = await load(`${world.listeners.production.url}/`, 400);
    const greenErrors = results.filter((r) => r.version === "v3-bad" && r.status === 500).length;
    expect(results.filter((r) => r.version === "v1" && r.status !== 200)).toEqual([]);

    const requests = await metric("RequestCount", "Sum", start);
    const errors = await metric("HTTPCode_Target_5XX_Count", "Sum", start);
    expect(sum(requests.blue) + sum(requests.green)).toBe(400);
    expect(sum(errors.green)).toBe(greenErrors);
    // Each request draws its own error: about 200 requests at 20% land within ±3.5 standard deviations.
    const rate = sum(errors.green) / sum(requests.green);
    expect(rate).toBeGreaterThan(0.1);
    expect(rate).toBeLessThan(0.3);
    expect(errors.blue).toEqual([]);

    // The bad version adds 20 ms to every answer, so its p99 cannot be lower.
    const p99 = await metric("TargetResponseTime", "p99", start);
    expect(p99.green.length).toBeGreaterThan(0);
    expect(Math.min(...p99.green)).toBeGreaterThanOrEqual(0.02);
  });

  it("drains in-flight requests when a task leaves its target group", async () => {
    await setWeights(c.elb, world.listeners.production.arn, [[world.targetGroups.blue, 1]]);
    await deployGreen("slow", { version: "slow", latencyMs: 600 }, 1);
    await setWeights(c.elb, world.listeners.production.arn, [[world.targetGroups.green, 1]]);
    const inFlight = load(`${world.listeners.production.url}/`, 6, 6);
    await new Promise((r) => setTimeout(r, 150)); // let the requests reach the target
    await c.ecs.send(new UpdateServiceCommand({ cluster: world.clusterArn, service: world.services.green.name, desiredCount: 0 }));
    const draining = await c.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: world.targetGroups.green }));
    expect(draining.TargetHealthDescriptions?.map((d) => d.TargetHealth?.State)).toEqual(["draining"]);
    const results = await inFlight;
    expect(results.map((r) => [r.status, r.version])).toEqual(Array.from({ length: 6 }, () => [200, "slow"]));
    await waitFor("green empty", async () => (await describeService(c.ecs, world, world.services.green.name)).runningCount === 0);
    expect((await get(`${world.listeners.production.url}/`)).status).toBe(503);
  });
});
