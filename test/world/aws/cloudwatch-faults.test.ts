import { CloudWatchClient, GetMetricDataCommand, InvalidParameterValueException } from "@aws-sdk/client-cloudwatch";
import { DescribeImagesCommand } from "@aws-sdk/client-ecr";
import { ECSClient, ListTasksCommand, ServerException } from "@aws-sdk/client-ecs";
import { DescribeLoadBalancersCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startAwsEmulator, type AwsEmulator, type FaultSpec, type SampleWorld } from "./index.ts";
import { clients, get } from "./test-helpers.ts";

let emu: AwsEmulator;
let world: SampleWorld;

beforeAll(async () => {
  emu = await startAwsEmulator({ healthCheckIntervalMs: 50 });
  world = await emu.seedSampleWorld();
});
afterEach(() => emu.faults.clear());
afterAll(() => emu.close());

const listTasks = new ListTasksCommand({ cluster: "gantry-sample" });
const metricQuery = (over: { Period?: number; Stat?: string; StartTime?: Date; EndTime?: Date } = {}) =>
  new GetMetricDataCommand({
    StartTime: over.StartTime ?? new Date(Date.now() - 60_000),
    EndTime: over.EndTime ?? new Date(),
    MetricDataQueries: [
      {
        Id: "m",
        MetricStat: {
          Metric: { Namespace: "AWS/ApplicationELB", MetricName: "RequestCount", Dimensions: [{ Name: "TargetGroup", Value: "targetgroup/none/0" }] },
          Period: over.Period ?? 60,
          Stat: over.Stat ?? "Sum",
        },
      },
    ],
  });

describe("CloudWatch GetMetricData", () => {
  it("answers an empty series for a dimension without traffic", async () => {
    const out = await clients(emu).cw.send(metricQuery());
    expect(out.MetricDataResults).toEqual([{ Id: "m", Label: "RequestCount", Timestamps: [], Values: [], StatusCode: "Complete" }]);
  });

  it("buckets by the asked period, with the load balancer dimension alone too", async () => {
    const start = new Date(Math.floor(Date.now() / 1000) * 1000);
    // Blue reaches steady state in the background. Until then the ALB answers 503 itself when it has
    // no target (not a request to any target group), or 502 from a task not yet listening (one).
    let ok = 0;
    let routed = 0;
    while (ok < 5) {
      const { status } = await get(`${world.listeners.production.url}/`);
      if (status === 200) ok++;
      if (status !== 503) routed++;
    }
    const lb = world.loadBalancerArn.split(":loadbalancer/")[1];
    const out = await clients(emu).cw.send(
      new GetMetricDataCommand({
        StartTime: start,
        EndTime: new Date(start.getTime() + 120_000),
        ScanBy: "TimestampAscending",
        MetricDataQueries: [
          {
            Id: "lb",
            MetricStat: { Metric: { Namespace: "AWS/ApplicationELB", MetricName: "RequestCount", Dimensions: [{ Name: "LoadBalancer", Value: lb }] }, Period: 60, Stat: "Sum" },
          },
        ],
      }),
    );
    expect(out.MetricDataResults?.[0]?.Values).toEqual([routed]);
    expect(out.MetricDataResults?.[0]?.Timestamps).toEqual([start]);
  });

  it("rejects bad windows, periods and statistics as InvalidParameterValue", async () => {
    const cw = clients(emu).cw;
    const now = new Date();
    for (const bad of [{ StartTime: now, EndTime: now }, { Period: 7 }, { Stat: "Median" }]) {
      const err = await cw.send(metricQuery(bad)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidParameterValueException);
      expect((err as { Code?: string }).Code).toBe("InvalidParameterValue");
    }
  });
});

describe("fault injection", () => {
  it("throttles with each service's named error, and the SDK retries past it", async () => {
    const once = clients(emu, { maxAttempts: 1 });
    const fault = (service: FaultSpec["service"]) => emu.faults.add({ service, kind: "throttle", count: 1 });
    fault("ecs");
    // ECS does not model its throttling error; the SDK names it from the wire code.
    await expect(once.ecs.send(listTasks)).rejects.toThrow(expect.objectContaining({ name: "ThrottlingException" }));
    fault("elbv2");
    await expect(once.elb.send(new DescribeLoadBalancersCommand({}))).rejects.toThrow(expect.objectContaining({ name: "Throttling" }));
    fault("cloudwatch");
    await expect(once.cw.send(metricQuery())).rejects.toThrow(expect.objectContaining({ name: "Throttling" }));
    fault("ecr");
    await expect(once.ecr.send(new DescribeImagesCommand({ repositoryName: "sample-app" }))).rejects.toThrow(
      expect.objectContaining({ name: "ThrottlingException" }),
    );

    emu.faults.add({ service: "ecs", operation: "ListTasks", kind: "throttle", count: 1 });
    const retried = await clients(emu).ecs.send(listTasks);
    expect(retried.$metadata.attempts).toBe(2);
    expect(emu.faults.list()).toEqual([]);
  });

  it("answers 5xx, drops connections and adds latency for the chosen operation only", async () => {
    const once = clients(emu, { maxAttempts: 1 });
    emu.faults.add({ service: "ecs", operation: "ListTasks", kind: "error5xx", rate: 1 });
    await expect(once.ecs.send(listTasks)).rejects.toBeInstanceOf(ServerException);
    await expect(once.elb.send(new DescribeLoadBalancersCommand({}))).resolves.toBeDefined();
    emu.faults.clear();

    emu.faults.add({ service: "*", kind: "drop", count: 1 });
    await expect(once.elb.send(new DescribeLoadBalancersCommand({}))).rejects.toThrow();
    await expect(once.elb.send(new DescribeLoadBalancersCommand({}))).resolves.toBeDefined();

    emu.faults.add({ service: "ecs", kind: "latency", latencyMs: 2000, count: 1 });
    const impatient = new ECSClient({ ...emu.clientConfig(), maxAttempts: 1, requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true } });
    await expect(impatient.send(listTasks)).rejects.toThrow(expect.objectContaining({ name: "TimeoutError" }));

    emu.faults.add({ service: "cloudwatch", kind: "error5xx", rate: 0 });
    await expect(once.cw.send(metricQuery())).resolves.toBeDefined();
  });

  it("is controlled over HTTP for a Gantry in another process", async () => {
    const url = `${emu.endpoint}/__emulator/faults`;
    const post = await fetch(url, { method: "POST", body: JSON.stringify({ service: "cloudwatch", operation: "GetMetricData", kind: "throttle", count: 2 }) });
    expect(post.status).toBe(201);
    const { id } = (await post.json()) as { id: number };
    expect(await (await fetch(url)).json()).toEqual({ faults: [{ id, service: "cloudwatch", operation: "GetMetricData", kind: "throttle", count: 2, hits: 0 }] });
    const cw = new CloudWatchClient({ ...emu.clientConfig(), maxAttempts: 1 });
    await expect(cw.send(metricQuery())).rejects.toThrow(expect.objectContaining({ name: "Throttling" }));
    expect((await fetch(`${url}/${id}`, { method: "DELETE" })).status).toBe(200);
    await expect(cw.send(metricQuery())).resolves.toBeDefined();
    const bad = await fetch(url, { method: "POST", body: JSON.stringify({ service: "s3", kind: "throttle" }) });
    expect(bad.status).toBe(400);
  });
});
