// The colour a cooling deployment left is scaled down by it when keep-warm ends, and scaled up by
// the next deployment as its idle colour. Only one of them may act on that ECS service at a time.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TERMINAL_PHASES, type Phase } from "../../src/deploy/api.ts";
import { DeploymentStore } from "../../src/deploy/deployment-store.ts";
import type { Deployment } from "../../src/deploy/deployment-state.ts";
import { tick } from "../../src/deploy/tick.ts";
import type { TickContext } from "../../src/deploy/tick-context.ts";
import type { Store } from "../../src/store/open-store.ts";
import { desiredCount, productionWeights, startDeployWorld, until, type DeployWorld } from "../support/deploy-world.ts";
import { deploymentFixture } from "../support/deployment-fixture.ts";
import { startLoad } from "../support/load.ts";
import { storeBackends } from "../support/stores.ts";

describe.each(storeBackends)("handing the old colour over on $name", (backend) => {
  let store: Store;
  let deployments: DeploymentStore;
  beforeEach(async () => {
    store = await (await backend.location()).open();
    deployments = new DeploymentStore(store);
  });
  afterEach(async () => {
    await store.close();
  });

  let created = 0;
  const insert = async (id: string, phase: Phase, fields: Partial<Deployment> = {}): Promise<Deployment> => {
    created += 1;
    const deployment = { ...deploymentFixture({ id, sha: id.padEnd(40, "0"), phase }), createdAt: created, ...fields };
    await deployments.insert(deployment);
    return deployment;
  };

  it("a newer deployment that took the colour over keeps the cooling one off it for good", async () => {
    const cooling = await insert("a1", "cooling");
    const next = await insert("b1", "preparing");
    expect(await deployments.oldColourOf(cooling)).toBe("warm");
    expect(await deployments.takeOverOldColours(next)).toBe(true);
    expect(await deployments.holdOldColour(cooling)).toBe(false);
    expect(await deployments.oldColourOf(cooling)).toBe("handed-over");
    // Each later prepare tick asks again and still has it.
    expect(await deployments.takeOverOldColours(next)).toBe(true);
  });

  it("a cooling deployment that holds its old colour makes the newer one wait until it has ended", async () => {
    const cooling = await insert("a2", "cooling");
    const next = await insert("b2", "preparing", { nextTickAt: Date.now() + 3_600_000 });
    expect(await deployments.holdOldColour(cooling)).toBe(true);
    expect(await deployments.holdOldColour(cooling)).toBe(true);
    expect(await deployments.takeOverOldColours(next)).toBe(false);
    expect(await deployments.oldColourOf(cooling)).toBe("held");

    const claimed = (await deployments.claimDue("replica", { leaseMs: 30_000, heartbeatStaleMs: 10_000 }))!;
    expect(claimed.deployment.id).toBe(cooling.id);
    await deployments.save(cooling.id, claimed.lease, { phase: "rolling-back", state: cooling.state, nextTickAt: 0 }, 30_000);
    // Giving the traffic back onto it is still acting on it.
    expect(await deployments.takeOverOldColours(next)).toBe(false);
    await deployments.save(cooling.id, claimed.lease, { phase: "succeeded", state: cooling.state, nextTickAt: 0 }, 30_000);
    expect(await deployments.takeOverOldColours(next)).toBe(true);
  });

  it("a /rollback in place holds the colour first, and ends the cooling deployment instead when a newer one has it", async () => {
    const pendingAction = { kind: "rollback" as const, by: "alice", reason: null, at: 1_000 };
    // Only the store is reached: restoring the weights fails without AWS, so the tick keeps its decision to roll back.
    const context = { now: () => 2_000, holdOldColour: (deployment: Deployment) => deployments.holdOldColour(deployment) } as TickContext;
    const taken = await insert("a4", "cooling");
    expect(await deployments.takeOverOldColours(await insert("b4", "preparing"))).toBe(true);
    const refused = await tick({ ...taken, pendingAction, state: { ...taken.state, liveColour: "blue" } }, context);
    expect(refused).toMatchObject({
      phase: "succeeded",
      consumed: pendingAction,
      state: { reason: "not rolled back in place for @alice: a newer deployment had taken blue over; /rollback again redeploys the previous commit" },
    });

    const warm = await insert("a3", "cooling");
    const inPlace = await tick({ ...warm, pendingAction, state: { ...warm.state, liveColour: "blue" } }, context);
    expect({ phase: inPlace.phase, colour: await deployments.oldColourOf(warm) }).toEqual({ phase: "rolling-back", colour: "held" });
  });

  it("asked at the same moment, exactly one side gets the colour", async () => {
    for (let round = 0; round < 20; round += 1) {
      // An environment each: a colour held in one round would make every later round's answer false.
      const environment = `race-${round}`;
      const cooling = await insert(`a-race-${round}`, "cooling", { environment });
      const next = await insert(`b-race-${round}`, "preparing", { environment });
      const [held, takenOver] = await Promise.all([deployments.holdOldColour(cooling), deployments.takeOverOldColours(next)]);
      expect({ round, oneSide: held !== takenOver }).toEqual({ round, oneSide: true });
      expect(await deployments.oldColourOf(cooling)).toBe(held ? "held" : "handed-over");
    }
  });
});

describe("a deployment that starts while the cooling one scales its old colour down", { timeout: 90_000 }, () => {
  let env: DeployWorld;
  beforeEach(async () => {
    env = await startDeployWorld();
  });
  afterEach(async () => {
    await env.close();
  });

  const ENDED: Phase[] = [...TERMINAL_PHASES];
  const SHORT_CANARY = {
    strategy: { type: "canary", steps: [{ weight: 25, bake: "1s" }, { weight: 100, bake: "1s" }] },
    postPromotionWatch: "1s",
    analysis: { interval: "1s", metricsDelay: "0s", minRequests: 20, minP99Increase: "2s" },
  };

  it("waits for that scale-down, then scales the colour up for itself and goes live on it", async () => {
    const first = await env.pushImage({ version: "v2" });
    const second = await env.pushImage({ version: "v3" });
    const load = startLoad(env.world.listeners.production.url, 50);
    try {
      const cooling = await env.start(first, { ...SHORT_CANARY, keepWarm: "2s" });
      await env.until(cooling.id, ["cooling"], 40_000);
      // When keep-warm ends the cooling deployment reads blue's service before scaling it down; ECS
      // sits on that read, long enough for the next deployment to reach blue.
      env.aws.faults.add({ service: "ecs", operation: "DescribeServices", kind: "latency", latencyMs: 3_000, count: 1 });
      await until(() => env.aws.faults.list().length === 0);
      const next = await env.start(second, { ...SHORT_CANARY, keepWarm: "0s" });
      expect((await env.deployments.get(cooling.id))!.phase).toBe("cooling");

      const done = await env.until(next.id, ENDED, 60_000);
      expect({ phase: done.phase, reason: done.reason }).toEqual({ phase: "succeeded", reason: null });
      expect((await env.until(cooling.id, ENDED)).phase).toBe("succeeded");
      expect(await productionWeights(env.aws, env.world)).toEqual({ blue: 100, green: 0 });
      expect(await desiredCount(env.aws, env.world, "blue")).toBeGreaterThan(0);
      // Blue went to zero for the cooling deployment before the next one scaled it up again.
      const blueCounts = env.aws.calls
        .filter(({ operation, input }) => operation === "UpdateService" && (input as { service?: string }).service === env.world.services.blue.name)
        .map(({ input }) => (input as { desiredCount?: number }).desiredCount);
      expect(blueCounts.slice(-2)).toEqual([0, expect.any(Number)]);
      expect(blueCounts.at(-1)).toBeGreaterThan(0);
    } finally {
      const stats = await load.stop();
      expect(stats.failed).toBe(0);
    }
  });
});
