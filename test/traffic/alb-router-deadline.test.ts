// A weight change never outlives the lease it was made under: the deadline's signal aborts it, and
// each of the SDK's attempts gets only its share of the time left.
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Deadline, DeadlinePassed } from "../../src/deploy/deadline.ts";
import { AlbRouter } from "../../src/traffic/alb-router.ts";
import { startWorld, type TestWorld } from "../aws/world.ts";

let t: TestWorld;
beforeAll(async () => {
  t = await startWorld();
});
afterAll(() => t.close());

const production = () => new AlbRouter({ elbv2: t.aws.elbv2, arn: t.world.listeners.production.arn, targetGroups: t.world.targetGroups });
const modifications = () => t.emu.calls.filter((call) => call.operation === "ModifyListener").length;

beforeEach(async () => {
  t.emu.faults.clear();
  await production().setWeights({ blue: 100, green: 0 });
});

describe("AlbRouter.setWeights under a deadline", () => {
  it("gives up when the deadline passes while the load balancer hangs, instead of waiting out its own timeouts", async () => {
    t.emu.faults.add({ service: "elbv2", operation: "ModifyListener", kind: "latency", latencyMs: 60_000 });
    const deadline = new Deadline(800);
    const error = await production()
      .setWeights({ blue: 95, green: 5 }, deadline)
      .then(() => undefined, (err: unknown) => err as Error);
    expect(error?.message).toContain("ModifyListener");
    expect(deadline.signal.aborted).toBe(true);
    t.emu.faults.clear();
  });

  it("cuts each attempt so that a retry still fits: one hung attempt does not use up the deadline", async () => {
    // The first ModifyListener hangs for longer than the whole deadline; the retry is answered.
    t.emu.faults.add({ service: "elbv2", operation: "ModifyListener", kind: "latency", latencyMs: 5_000, count: 1 });
    const deadline = new Deadline(3_000);
    await production().setWeights({ blue: 90, green: 10 }, deadline);
    expect(deadline.signal.aborted).toBe(false);
    expect(await production().getWeights()).toEqual({ blue: 90, green: 10 });
  });

  it("sends nothing once the deadline has passed", async () => {
    const before = modifications();
    const deadline = new Deadline(1);
    await sleep(20);
    await expect(production().setWeights({ blue: 50, green: 50 }, deadline)).rejects.toBeInstanceOf(DeadlinePassed);
    expect(modifications()).toBe(before);
    expect(await production().getWeights()).toEqual({ blue: 100, green: 0 });
  });
});
