// AlbRouter against the emulated ALB: weights read, set in one call and verified, on a listener and
// on a listener rule, with real HTTP requests through the listener seeing the split.
import { DescribeListenersCommand, DescribeRulesCommand, ModifyListenerCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AlbRouter } from "../../src/traffic/alb-router.ts";
import { countBy, get, load } from "../world/aws/test-helpers.ts";
import { recordCalls, runOnGreen, startWorld, type TestWorld } from "../aws/world.ts";

let t: TestWorld;
beforeAll(async () => {
  t = await startWorld();
  await runOnGreen(t, "v2", { version: "v2" });
});
afterAll(() => t.close());

const production = () => new AlbRouter({ elbv2: t.aws.elbv2, arn: t.world.listeners.production.arn, targetGroups: t.world.targetGroups });
const versions = async (n: number, headers: Record<string, string> = {}) =>
  countBy(await Promise.all(Array.from({ length: n }, () => get(`${t.world.listeners.production.url}/`, headers))), (r) => r.version);

beforeEach(() => production().setWeights({ blue: 100, green: 0 }));

describe("AlbRouter on a listener", () => {
  it("moves production traffic 100/0 → 90/10 → 0/100, one ModifyListener per shift, each verified", async () => {
    const router = production();
    const calls = recordCalls(t.aws.elbv2);
    expect(await router.getWeights()).toEqual({ blue: 100, green: 0 });
    expect(countBy(await load(`${t.world.listeners.production.url}/`, 50), (r) => r.version)).toEqual({ v1: 50 });

    await router.setWeights({ blue: 90, green: 10 });
    expect(await router.verifyWeights({ blue: 90, green: 10 })).toBe(true);
    expect(await router.verifyWeights({ blue: 100, green: 0 })).toBe(false);
    expect(await load(`${t.world.listeners.production.url}/`, 100).then((rs) => countBy(rs, (r) => r.version))).toEqual({ v1: 90, v2: 10 });

    await router.setWeights({ blue: 0, green: 100 });
    expect(await router.getWeights()).toEqual({ blue: 0, green: 100 });
    expect(countBy(await load(`${t.world.listeners.production.url}/`, 50), (r) => r.version)).toEqual({ v2: 50 });
    expect(calls.filter((c) => c.command.startsWith("Modify")).map((c) => c.command)).toEqual(["ModifyListenerCommand", "ModifyListenerCommand"]);
  });

  it("returns the weights AWS answers the change with, and sends nothing when the listener already has them", async () => {
    const router = production();
    const calls = recordCalls(t.aws.elbv2);
    expect(await router.setWeights({ blue: 95, green: 5 })).toEqual({ blue: 95, green: 5 });
    // A repeated or resumed tick: read, found as wanted, not changed again.
    expect(await router.setWeights({ blue: 95, green: 5 })).toEqual({ blue: 95, green: 5 });
    expect(calls.map((c) => c.command)).toEqual(["DescribeListenersCommand", "ModifyListenerCommand", "DescribeListenersCommand"]);
    expect(await router.getWeights()).toEqual({ blue: 95, green: 5 });
  });

  it("keeps the rest of the action: its order and, as AWS reports it, its stickiness", async () => {
    const arn = t.world.listeners.production.arn;
    const { blue, green } = t.world.targetGroups;
    await t.aws.elbv2.send(
      new ModifyListenerCommand({ ListenerArn: arn, DefaultActions: [{ Type: "forward", Order: 7, ForwardConfig: { TargetGroups: [{ TargetGroupArn: blue, Weight: 5 }] } }] }),
    );
    // The emulator does not keep stickiness; report it the way a sticky AWS listener would.
    const stickiness = { Enabled: true, DurationSeconds: 600 };
    t.aws.elbv2.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === "DescribeListenersCommand") {
          for (const action of (result.output as { Listeners: { DefaultActions: { ForwardConfig: object }[] }[] }).Listeners[0]?.DefaultActions ?? []) {
            action.ForwardConfig = { ...action.ForwardConfig, TargetGroupStickinessConfig: stickiness };
          }
        }
        return result;
      },
      { step: "initialize", name: "reportStickiness" },
    );
    const calls = recordCalls(t.aws.elbv2);
    try {
      await production().setWeights({ blue: 75, green: 25 });
    } finally {
      t.aws.elbv2.middlewareStack.remove("reportStickiness");
    }
    const sent = calls.find((c) => c.command === "ModifyListenerCommand")?.input;
    expect(sent).toEqual({
      ListenerArn: arn,
      DefaultActions: [
        {
          Type: "forward",
          Order: 7,
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: blue, Weight: 75 },
              { TargetGroupArn: green, Weight: 25 },
            ],
            TargetGroupStickinessConfig: stickiness,
          },
        },
      ],
    });
    const listener = (await t.aws.elbv2.send(new DescribeListenersCommand({ ListenerArns: [arn] }))).Listeners?.[0];
    expect(listener?.DefaultActions?.[0]?.Order).toBe(7);
  });

  it("surfaces a rejected ModifyListener with the listener, the weights and AWS's reason, and changes nothing", async () => {
    const missing = t.world.targetGroups.green.replace(/targetgroup\/[^/]+\//, "targetgroup/gone/");
    const router = new AlbRouter({ elbv2: t.aws.elbv2, arn: t.world.listeners.production.arn, targetGroups: { ...t.world.targetGroups, green: missing } });
    await expect(router.setWeights({ blue: 50, green: 50 })).rejects.toThrow(
      `ModifyListener on ${t.world.listeners.production.arn} to blue 50% / green 50% was rejected: TargetGroupNotFound`,
    );
    expect(await production().getWeights()).toEqual({ blue: 100, green: 0 });
  });

  it("refuses weights that do not add up to 100, and a listener that also feeds a third target group", async () => {
    await expect(production().setWeights({ blue: 50, green: 40 })).rejects.toThrow("must add up to 100");
    const stranger = new AlbRouter({
      elbv2: t.aws.elbv2,
      arn: t.world.listeners.production.arn,
      targetGroups: { blue: t.world.targetGroups.green, green: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/1" },
    });
    await expect(stranger.getWeights()).rejects.toThrow("neither the blue nor the green target group");
    await expect(stranger.setWeights({ blue: 0, green: 100 })).rejects.toThrow("neither the blue nor the green target group");
  });

  it("still sets and verifies weights with 20% of ELBv2 calls throttled", async () => {
    const fault = t.emu.faults.add({ service: "elbv2", kind: "throttle", rate: 0.2 });
    // So that the retries are certain to be exercised, not merely likely: the first ModifyListener call is throttled too.
    t.emu.faults.add({ service: "elbv2", operation: "ModifyListener", kind: "throttle", count: 1 });
    try {
      for (const weights of [
        { blue: 95, green: 5 },
        { blue: 0, green: 100 },
        { blue: 100, green: 0 },
      ]) {
        await production().setWeights(weights);
        expect(await production().verifyWeights(weights)).toBe(true);
      }
      expect(t.emu.faults.list().map((f) => f.id)).toEqual([fault]);
    } finally {
      t.emu.faults.clear();
    }
  });
});

describe("AlbRouter on a listener rule", () => {
  it("shifts only the rule's traffic with one ModifyRule, keeping its conditions", async () => {
    const arn = t.world.rules.greenByHeader;
    const router = new AlbRouter({ elbv2: t.aws.elbv2, arn, targetGroups: t.world.targetGroups });
    const before = (await t.aws.elbv2.send(new DescribeRulesCommand({ RuleArns: [arn] }))).Rules?.[0];
    expect(await router.getWeights()).toEqual({ blue: 0, green: 100 });
    const calls = recordCalls(t.aws.elbv2);

    await router.setWeights({ blue: 50, green: 50 });

    expect(calls.filter((c) => c.command.startsWith("Modify")).map((c) => c.command)).toEqual(["ModifyRuleCommand"]);
    expect(await router.verifyWeights({ blue: 50, green: 50 })).toBe(true);
    expect(await versions(40, { "X-Gantry-Target": "green" })).toEqual({ v1: 20, v2: 20 });
    expect(await versions(20)).toEqual({ v1: 20 });
    const after = (await t.aws.elbv2.send(new DescribeRulesCommand({ RuleArns: [arn] }))).Rules?.[0];
    expect(after?.Conditions).toEqual(before?.Conditions);
    expect(after?.Priority).toBe(before?.Priority);
  });

  it("rejects an ARN that is neither a listener nor a rule", () => {
    expect(() => new AlbRouter({ elbv2: t.aws.elbv2, arn: t.world.loadBalancerArn, targetGroups: t.world.targetGroups })).toThrow("neither a listener");
  });
});
