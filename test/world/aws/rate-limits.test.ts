// AWS's API rate limits per account and region: token buckets, answered as AWS answers.
import { ListTasksCommand } from "@aws-sdk/client-ecs";
import { DescribeLoadBalancersCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, ModifyListenerCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AWS_RATE_LIMITS, startAwsEmulator, type AwsEmulator, type SampleWorld } from "./index.ts";
import { clients } from "./test-helpers.ts";

let emu: AwsEmulator;
let world: SampleWorld;
let once: ReturnType<typeof clients>;

beforeAll(async () => {
  emu = await startAwsEmulator({ healthCheckIntervalMs: 50 });
  world = await emu.seedSampleWorld();
  // No SDK retries: each refusal is seen as it is.
  once = clients(emu, { maxAttempts: 1 });
});
afterAll(() => emu.close());

const settle = <T>(calls: Promise<T>[]) => Promise.allSettled(calls);
const refusedWith = (results: PromiseSettledResult<unknown>[]) =>
  results.flatMap((r) => (r.status === "rejected" ? [(r.reason as Error).name] : []));

describe("API rate limits", () => {
  it("lets ELBv2 Describe* burst to 40 a second, then answers Throttling, and refills at 10 a second", async () => {
    const describeRule = AWS_RATE_LIMITS.find((r) => r.name === "elbv2 Describe*");
    expect(describeRule).toMatchObject({ capacity: 40, refillPerSecond: 10 });
    await sleep(4_100); // a full bucket
    // DescribeTargetHealth draws from the same bucket as DescribeLoadBalancers.
    const burst = await settle([
      ...Array.from({ length: 40 }, () => once.elb.send(new DescribeLoadBalancersCommand({}))),
      ...Array.from({ length: 20 }, () => once.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: world.targetGroups.blue }))),
    ]);
    const refused = refusedWith(burst);
    // 40 tokens, plus what refilled while the burst was in flight.
    expect(refused.length).toBeGreaterThanOrEqual(10);
    expect(refused.length).toBeLessThanOrEqual(20);
    expect(new Set(refused)).toEqual(new Set(["Throttling"]));
    expect(refusedWith(burst.slice(40)).length).toBeGreaterThan(0);
    // Writes have their own bucket.
    await once.elb.send(
      new ModifyListenerCommand({
        ListenerArn: world.listeners.test.arn,
        DefaultActions: [{ Type: "forward", ForwardConfig: { TargetGroups: [{ TargetGroupArn: world.targetGroups.green, Weight: 1 }] } }],
      }),
    );
    await sleep(1_100);
    const refilled = await settle(Array.from({ length: 10 }, () => once.elb.send(new DescribeLoadBalancersCommand({}))));
    expect(refusedWith(refilled).length).toBeLessThanOrEqual(1);
    expect(emu.rateLimits?.throttled.get("elbv2 Describe*")).toBeGreaterThanOrEqual(6);
  });

  it("answers ECS's ThrottlingException, and a throttled call is not carried out", async () => {
    await sleep(3_000);
    const before = emu.calls.filter((c) => c.operation === "ListTasks").length;
    const burst = await settle(Array.from({ length: 70 }, () => once.ecs.send(new ListTasksCommand({ cluster: world.clusterArn }))));
    const refused = refusedWith(burst);
    expect(refused.length).toBeGreaterThan(0);
    expect(new Set(refused)).toEqual(new Set(["ThrottlingException"]));
    expect(emu.calls.filter((c) => c.operation === "ListTasks").length - before).toBe(70 - refused.length);
  });

  it("can be turned off", async () => {
    const free = await startAwsEmulator({ rateLimits: false });
    try {
      const c = clients(free, { maxAttempts: 1 });
      const burst = await settle(Array.from({ length: 60 }, () => c.elb.send(new DescribeLoadBalancersCommand({}))));
      expect(refusedWith(burst)).toEqual([]);
    } finally {
      await free.close();
    }
  });

  it("lets an observer read as often as it likes without spending the account's tokens, and nothing else", async () => {
    await sleep(4_100); // a full bucket
    const observer = new ElasticLoadBalancingV2Client({ ...emu.observerConfig(), maxAttempts: 1 });
    const before = emu.calls.length;
    const looks = await settle(Array.from({ length: 100 }, () => observer.send(new DescribeTargetHealthCommand({ TargetGroupArn: world.targetGroups.blue }))));
    expect(refusedWith(looks)).toEqual([]);
    expect(emu.calls.length).toBe(before);
    // The account's bucket is still full: a burst of 40 goes through.
    const burst = await settle(Array.from({ length: 40 }, () => once.elb.send(new DescribeLoadBalancersCommand({}))));
    expect(refusedWith(burst)).toEqual([]);
    await expect(
      observer.send(new ModifyListenerCommand({ ListenerArn: world.listeners.production.arn, DefaultActions: [{ Type: "forward", TargetGroupArn: world.targetGroups.green }] })),
    ).rejects.toMatchObject({ name: "AccessDenied" });
  });
});
