// The test listener helpers: its base URL for smoke checks, and pointing it at one colour.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenerBaseUrl, pointListenerAt } from "../../src/traffic/alb-listener.ts";
import { countBy, load } from "../world/aws/test-helpers.ts";
import { runOnGreen, startWorld, type TestWorld } from "../aws/world.ts";

let t: TestWorld;
beforeAll(async () => {
  t = await startWorld();
  await runOnGreen(t, "v2", { version: "v2" });
});
afterAll(() => t.close());

describe("test listener", () => {
  it("gives the listener's URL from the load balancer's DNS name, the listener's protocol and port", async () => {
    expect(await listenerBaseUrl(t.aws.elbv2, t.world.listeners.test.arn)).toBe(t.world.listeners.test.url);
  });

  it("points all of its traffic at one colour and back", async () => {
    const { arn } = t.world.listeners.test;
    const url = await listenerBaseUrl(t.aws.elbv2, arn);
    await pointListenerAt(t.aws.elbv2, arn, t.world.targetGroups, "blue");
    expect(countBy(await load(`${url}/`, 20), (r) => r.version)).toEqual({ v1: 20 });
    await pointListenerAt(t.aws.elbv2, arn, t.world.targetGroups, "green");
    expect(countBy(await load(`${url}/`, 20), (r) => r.version)).toEqual({ v2: 20 });
  });
});

