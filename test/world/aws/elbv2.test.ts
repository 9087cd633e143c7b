import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  InvalidTargetException,
  ListenerNotFoundException,
  LoadBalancerNotFoundException,
  ModifyRuleCommand,
  OperationNotPermittedException,
  TargetGroupNotFoundException,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsEmulator, type AwsEmulator, type SampleWorld } from "./index.ts";
import { clients, describeService, get, sampleVersion, setWeights, waitFor, waitSteady } from "./test-helpers.ts";

let emu: AwsEmulator;
let world: SampleWorld;
let ecs: ReturnType<typeof clients>["ecs"];
let elb: ReturnType<typeof clients>["elb"];

beforeAll(async () => {
  emu = await startAwsEmulator({ healthCheckIntervalMs: 50 });
  world = await emu.seedSampleWorld();
  ({ ecs, elb } = clients(emu));
  await waitSteady(ecs, world, world.services.blue.name);
});
afterAll(() => emu.close());

const named = (name: string) => expect.objectContaining({ name });

describe("ELBv2 load balancers, listeners and rules", () => {
  it("describes the load balancer with loopback DNS and listeners on their real ports", async () => {
    const lbs = await elb.send(new DescribeLoadBalancersCommand({ Names: ["gantry-sample"] }));
    expect(lbs.LoadBalancers?.[0]).toMatchObject({ LoadBalancerArn: world.loadBalancerArn, DNSName: "127.0.0.1", Type: "application", State: { Code: "active" } });
    expect(lbs.LoadBalancers?.[0]?.CreatedTime).toBeInstanceOf(Date);
    const listeners = await elb.send(new DescribeListenersCommand({ LoadBalancerArn: world.loadBalancerArn }));
    const production = listeners.Listeners?.find((l) => l.ListenerArn === world.listeners.production.arn);
    expect(`http://127.0.0.1:${production?.Port}`).toBe(world.listeners.production.url);
    expect(production?.DefaultActions?.[0]?.ForwardConfig?.TargetGroups).toEqual([{ TargetGroupArn: world.targetGroups.blue, Weight: 1 }]);
    expect((await get(`${world.listeners.production.url}/`)).version).toBe("v1");
  });

  it("names what is missing", async () => {
    await expect(elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [`${world.loadBalancerArn}0`] }))).rejects.toBeInstanceOf(
      LoadBalancerNotFoundException,
    );
    await expect(elb.send(new DescribeListenersCommand({ ListenerArns: [`${world.listeners.test.arn}0`] }))).rejects.toBeInstanceOf(
      ListenerNotFoundException,
    );
    await expect(elb.send(new DescribeListenersCommand({}))).rejects.toThrow(named("ValidationError"));
    await expect(elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [`${world.targetGroups.blue}0`] }))).rejects.toBeInstanceOf(
      TargetGroupNotFoundException,
    );
    await expect(
      elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: world.targetGroups.blue, Targets: [{ Id: "127.0.0.1", Port: 1 }] })),
    ).rejects.toBeInstanceOf(InvalidTargetException);
  });

  it("modifies weights within the API's limits", async () => {
    const out = await setWeights(elb, world.listeners.test.arn, [
      [world.targetGroups.blue, 3],
      [world.targetGroups.green, 999],
    ]);
    expect(out.Listeners?.[0]?.DefaultActions?.[0]?.ForwardConfig?.TargetGroups).toEqual([
      { TargetGroupArn: world.targetGroups.blue, Weight: 3 },
      { TargetGroupArn: world.targetGroups.green, Weight: 999 },
    ]);
    const read = await elb.send(new DescribeListenersCommand({ ListenerArns: [world.listeners.test.arn] }));
    expect(read.Listeners?.[0]?.DefaultActions).toEqual(out.Listeners?.[0]?.DefaultActions);

    await expect(setWeights(elb, world.listeners.test.arn, [[world.targetGroups.blue, 1000]])).rejects.toThrow(named("ValidationError"));
    await expect(setWeights(elb, world.listeners.test.arn, [[world.targetGroups.blue, -1]])).rejects.toThrow(named("ValidationError"));
    await expect(setWeights(elb, world.listeners.test.arn, [[`${world.targetGroups.green}0`, 1]])).rejects.toBeInstanceOf(TargetGroupNotFoundException);
    const six = Array.from({ length: 6 }, (_, i) => [i === 0 ? world.targetGroups.blue : `${world.targetGroups.green}${i}`, 1] as [string, number]);
    await expect(setWeights(elb, world.listeners.test.arn, six)).rejects.toThrow(named("ValidationError"));
    await expect(setWeights(elb, `${world.listeners.test.arn}0`, [[world.targetGroups.blue, 1]])).rejects.toBeInstanceOf(ListenerNotFoundException);
    // A rejected call changes nothing.
    const after = await elb.send(new DescribeListenersCommand({ ListenerArns: [world.listeners.test.arn] }));
    expect(after.Listeners?.[0]?.DefaultActions).toEqual(out.Listeners?.[0]?.DefaultActions);
  });

  it("describes rules and modifies a non-default one, which then routes traffic", async () => {
    const rules = await elb.send(new DescribeRulesCommand({ ListenerArn: world.listeners.production.arn }));
    expect(rules.Rules?.map((r) => [r.Priority, r.IsDefault])).toEqual([
      ["10", false],
      ["default", true],
    ]);
    const header = { "x-gantry-target": "green" };
    expect((await get(`${world.listeners.production.url}/`, header)).status).toBe(503); // green has no tasks
    const modified = await elb.send(
      new ModifyRuleCommand({ RuleArn: world.rules.greenByHeader, Actions: [{ Type: "forward", TargetGroupArn: world.targetGroups.blue }] }),
    );
    expect(modified.Rules?.[0]?.Actions?.[0]?.ForwardConfig?.TargetGroups).toEqual([{ TargetGroupArn: world.targetGroups.blue, Weight: 1 }]);
    expect((await get(`${world.listeners.production.url}/`, header)).version).toBe("v1");
    const defaultRule = rules.Rules?.find((r) => r.IsDefault)?.RuleArn;
    await expect(
      elb.send(new ModifyRuleCommand({ RuleArn: defaultRule, Actions: [{ Type: "forward", TargetGroupArn: world.targetGroups.green }] })),
    ).rejects.toBeInstanceOf(OperationNotPermittedException);
  });
});

describe("ELBv2 target groups and health", () => {
  it("describes target groups with their health check and load balancer", async () => {
    const out = await elb.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: world.loadBalancerArn }));
    expect(out.TargetGroups?.map((g) => g.TargetGroupName).toSorted()).toEqual(["sample-blue", "sample-green"]);
    expect(out.TargetGroups?.[0]).toMatchObject({ HealthCheckPath: "/health", Matcher: { HttpCode: "200" }, LoadBalancerArns: [world.loadBalancerArn] });
    const byName = await elb.send(new DescribeTargetGroupsCommand({ Names: ["sample-green"] }));
    expect(byName.TargetGroups?.map((g) => g.TargetGroupArn)).toEqual([world.targetGroups.green]);
  });

  it("takes targets from initial to healthy, or to unhealthy when the health path fails, and ECS replaces those", async () => {
    const sick = await sampleVersion(emu, ecs, "sick", { version: "sick", failHealthCheck: true });
    await ecs.send(
      new UpdateServiceCommand({ cluster: world.clusterArn, service: world.services.green.name, taskDefinition: sick, desiredCount: 1, healthCheckGracePeriodSeconds: 1 }),
    );
    const seen = new Set<string>();
    await waitFor("an unhealthy target", async () => {
      const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: world.targetGroups.green }));
      for (const d of health.TargetHealthDescriptions ?? []) seen.add(`${d.TargetHealth?.State}:${d.TargetHealth?.Reason}`);
      return seen.has("unhealthy:Target.ResponseCodeMismatch");
    });
    expect([...seen]).toContain("initial:Elb.RegistrationInProgress");
    const green = await waitFor("a replaced task", async () => {
      const s = await describeService(ecs, world, world.services.green.name);
      return (s.deployments?.[0]?.failedTasks ?? 0) > 0 && s;
    });
    expect(green.deployments?.[0]?.rolloutState).toBe("IN_PROGRESS");
    expect(green.events?.some((e) => e.message?.includes("failed ELB health checks"))).toBe(true);

    const healthy = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: world.targetGroups.blue }));
    expect(healthy.TargetHealthDescriptions?.map((d) => d.TargetHealth?.State)).toEqual(["healthy", "healthy"]);
  });
});
