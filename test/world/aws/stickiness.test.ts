// Stickiness as AWS has it: target-group stickiness attributes, the forward action's group
// stickiness (AWSALBTG), what AWS refuses, and a rollback that moves every sticky client.
// Time: the fast world, with a listener-change propagation delay of PROPAGATION_MS.
import {
  DescribeListenersCommand,
  DescribeTargetGroupAttributesCommand,
  ModifyListenerCommand,
  ModifyTargetGroupAttributesCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlbRouter } from "../../../src/traffic/alb-router.ts";
import { startAwsEmulator, type AwsEmulator, type SampleWorld } from "./index.ts";
import { clients, sampleVersion, waitSteady } from "./test-helpers.ts";

/** The bound a rollback is held to: the listener change must reach every load balancer node. */
const PROPAGATION_MS = 300;
const CLIENTS = 16;
const ONE_HOUR = 3600;

let emu: AwsEmulator;
let world: SampleWorld;
let c: ReturnType<typeof clients>;

beforeAll(async () => {
  emu = await startAwsEmulator({ healthCheckIntervalMs: 50, propagationDelayMs: PROPAGATION_MS });
  world = await emu.seedSampleWorld();
  c = clients(emu);
  const td = await sampleVersion(emu, c.ecs, "v2", { version: "v2" });
  await c.ecs.send(new UpdateServiceCommand({ cluster: world.clusterArn, service: world.services.green.name, taskDefinition: td, desiredCount: 1 }));
  await Promise.all([waitSteady(c.ecs, world, world.services.blue.name), waitSteady(c.ecs, world, world.services.green.name)]);
});
afterAll(() => emu.close());

/** One client: keeps the cookies the load balancer sets, as a browser does. */
class Client {
  readonly #cookies = new Map<string, string>();

  get(url: string): Promise<string | undefined> {
    const cookie = [...this.#cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    return new Promise((resolve, reject) => {
      request(url, { agent: false, headers: cookie ? { cookie } : {} }, (res) => {
        res.resume();
        for (const line of res.headers["set-cookie"] ?? []) {
          const [pair = ""] = line.split(";");
          const [name = "", ...value] = pair.split("=");
          this.#cookies.set(name, value.join("="));
        }
        res.on("end", () => resolve(res.headers["x-sample-version"] as string | undefined));
      })
        .on("error", reject)
        .end();
    });
  }

  has(name: string): boolean {
    return this.#cookies.has(name);
  }
}

const forward = (weights: [string, number][], stickiness?: { Enabled: boolean; DurationSeconds?: number }) => [
  { Type: "forward" as const, ForwardConfig: { TargetGroups: weights.map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })), TargetGroupStickinessConfig: stickiness } },
];

async function defaultForward() {
  const out = await c.elb.send(new DescribeListenersCommand({ ListenerArns: [world.listeners.production.arn] }));
  return out.Listeners?.[0]?.DefaultActions?.[0]?.ForwardConfig;
}

async function visit(clientsList: Client[]): Promise<(string | undefined)[]> {
  return Promise.all(clientsList.map((client) => client.get(world.listeners.production.url)));
}

describe("stickiness", () => {
  it("stores, validates and returns target-group stickiness, refusing what AWS refuses", async () => {
    const set = (Key: string, Value: string) =>
      c.elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: world.targetGroups.blue, Attributes: [{ Key, Value }] }));
    await expect(set("stickiness.type", "source_ip")).rejects.toThrow(/lb_cookie or app_cookie/);
    await expect(set("stickiness.lb_cookie.duration_seconds", "604801")).rejects.toThrow(/1 to 604800/);
    await expect(set("stickiness.app_cookie.cookie_name", "AWSALBTG")).rejects.toThrow(/AWSALB/);
    await expect(
      c.elb.send(
        new ModifyTargetGroupAttributesCommand({
          TargetGroupArn: world.targetGroups.blue,
          Attributes: [
            { Key: "stickiness.enabled", Value: "true" },
            { Key: "stickiness.type", Value: "app_cookie" },
          ],
        }),
      ),
    ).rejects.toThrow(/cookie_name/);

    await set("stickiness.lb_cookie.duration_seconds", "120");
    const out = await c.elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: world.targetGroups.blue }));
    const attributes = Object.fromEntries((out.Attributes ?? []).map((a) => [a.Key, a.Value]));
    expect(attributes).toMatchObject({ "stickiness.enabled": "false", "stickiness.type": "lb_cookie", "stickiness.lb_cookie.duration_seconds": "120" });
  });

  it("refuses a forward to several groups, one sticky, without group stickiness, and keeps group stickiness as sent", async () => {
    const listenerArn = world.listeners.production.arn;
    await c.elb.send(
      new ModifyTargetGroupAttributesCommand({ TargetGroupArn: world.targetGroups.green, Attributes: [{ Key: "stickiness.enabled", Value: "true" }] }),
    );
    const split: [string, number][] = [
      [world.targetGroups.blue, 50],
      [world.targetGroups.green, 50],
    ];
    await expect(c.elb.send(new ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: forward(split) }))).rejects.toThrow(
      /stickiness must be enabled/,
    );
    await expect(
      c.elb.send(new ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: forward(split, { Enabled: true }) })),
    ).rejects.toThrow(/between 1 and 604800/);
    // Refused calls changed nothing.
    expect((await defaultForward())?.TargetGroups?.map((g) => g.TargetGroupArn)).toEqual([world.targetGroups.blue]);

    await c.elb.send(new ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: forward(split, { Enabled: true, DurationSeconds: ONE_HOUR }) }));
    expect((await defaultForward())?.TargetGroupStickinessConfig).toEqual({ Enabled: true, DurationSeconds: ONE_HOUR });
    // With a sticky group in it, group stickiness cannot be turned off while both groups stay.
    await expect(c.elb.send(new ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: forward(split, { Enabled: false }) }))).rejects.toThrow(
      /stickiness must be enabled/,
    );
    await c.elb.send(
      new ModifyTargetGroupAttributesCommand({ TargetGroupArn: world.targetGroups.green, Attributes: [{ Key: "stickiness.enabled", Value: "false" }] }),
    );
  });

  it("keeps cookie holders on their colour at weight 0, and Gantry's rollback moves every one of them within the propagation delay", async () => {
    const listenerArn = world.listeners.production.arn;
    const split: [string, number][] = [
      [world.targetGroups.blue, 50],
      [world.targetGroups.green, 50],
    ];
    await c.elb.send(new ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: forward(split, { Enabled: true, DurationSeconds: ONE_HOUR }) }));
    await sleep(PROPAGATION_MS * 2);

    const crowd = Array.from({ length: CLIENTS }, () => new Client());
    const first = await visit(crowd);
    expect(crowd.every((client) => client.has("AWSALBTG"))).toBe(true);
    expect(new Set(first)).toEqual(new Set(["v1", "v2"]));
    // Sticky: each client sees its colour again, whatever the round robin would have given.
    for (let round = 0; round < 3; round++) expect(await visit(crowd)).toEqual(first);

    // AWS's behaviour that makes a plain weight change too weak for a rollback: weight 0 keeps cookie holders.
    await c.elb.send(
      new ModifyListenerCommand({
        ListenerArn: listenerArn,
        DefaultActions: forward(
          [
            [world.targetGroups.blue, 100],
            [world.targetGroups.green, 0],
          ],
          { Enabled: true, DurationSeconds: ONE_HOUR },
        ),
      }),
    );
    await sleep(PROPAGATION_MS * 2);
    expect(await visit(crowd)).toEqual(first);
    expect(await new Client().get(world.listeners.production.url)).toBe("v1");

    // Gantry's rollback: back to 50/50, then all to blue.
    const router = new AlbRouter({ elbv2: c.elb, arn: listenerArn, targetGroups: world.targetGroups });
    await router.setWeights({ blue: 50, green: 50 });
    expect((await defaultForward())?.TargetGroupStickinessConfig).toEqual({ Enabled: true, DurationSeconds: ONE_HOUR });
    await router.setWeights({ blue: 100, green: 0 });
    const rolledBackAt = Date.now();
    // The service's stickiness settings are kept.
    expect((await defaultForward())?.TargetGroupStickinessConfig).toEqual({ Enabled: true, DurationSeconds: ONE_HOUR });
    expect(await router.getWeights()).toEqual({ blue: 100, green: 0 });

    await sleep(Math.max(0, rolledBackAt + PROPAGATION_MS + 50 - Date.now()));
    expect(await visit(crowd)).toEqual(crowd.map(() => "v1"));
    // And the clients stay sticky on blue afterwards.
    await router.setWeights({ blue: 50, green: 50 });
    await sleep(PROPAGATION_MS * 2);
    expect(await visit(crowd)).toEqual(crowd.map(() => "v1"));
  });
});
