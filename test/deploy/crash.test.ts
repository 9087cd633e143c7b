import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TERMINAL_PHASES, type Phase } from "../../src/deploy/api.ts";
import { DeploymentStore } from "../../src/deploy/deployment-store.ts";
import { openStore, type Store } from "../../src/store/open-store.ts";
import { startAwsEmulator, type AwsEmulator, type SampleBehaviour, type SampleWorld } from "../world/aws/index.ts";
import { FIRST_STEP_CATCHES_10_PERCENT, REPO, productionWeights, randomSha, sampleConfig, untilServing } from "../support/deploy-world.ts";
import { startLoad } from "../support/load.ts";
import { Replica, frontDoorFor } from "../support/replica.ts";

const ENDED: Phase[] = [...TERMINAL_PHASES];

describe("a controller killed (SIGKILL) at every step boundary in turn", () => {
  let aws: AwsEmulator;
  let world: SampleWorld;
  beforeAll(async () => {
    aws = await startAwsEmulator({ healthCheckIntervalMs: 100 });
    world = await aws.seedSampleWorld();
    await untilServing(world.listeners.production.url);
  });
  afterAll(async () => {
    await aws.close();
  });

  const productionShifts = () =>
    aws.calls.filter((call) => call.operation === "ModifyListener" && (call.input as Record<string, unknown>).ListenerArn === world.listeners.production.arn).length;

  /**
   * Runs a deployment to its end with a fresh controller process per boundary: each process is
   * killed after it persists one step, in the middle of the next (it never saves a second), and the
   * next one resumes.
   */
  async function deployThroughKills(behaviour: SampleBehaviour, environment: Record<string, unknown> = {}) {
    const dataDir = mkdtempSync(join(tmpdir(), "gantry-crash-"));
    const store: Store = await openStore({ dataDir });
    const deployments = new DeploymentStore(store);
    const controller = frontDoorFor(deployments, aws.endpoint);
    const sha = randomSha();
    await aws.pushSampleImage(sha, behaviour);
    const shiftsBefore = productionShifts();
    const load = startLoad(world.listeners.production.url, 100);
    const started = await controller.start({ repo: REPO, config: sampleConfig(aws, world, environment), environment: "production", sha, requestedBy: "octocat", pullRequest: 1 });
    if (started.outcome === "refused") throw new Error(started.reason);

    const killedAt: string[] = [];
    for (let restarts = 0; restarts < 80; restarts += 1) {
      const current = await deployments.get(started.deployment.id);
      if (current && ENDED.includes(current.phase)) break;
      // Each AWS write gets a sixth of two thirds of the lease per attempt: 1.5 s leases left too little on a busy machine.
      const replica = new Replica({ GANTRY_DATA_DIR: dataDir, GANTRY_INSTANCE_ID: "replica-1", LEASE_MS: "3000", AWS_ENDPOINT_URL: aws.endpoint, STEPS_BEFORE_KILL: "1" });
      await replica.reached(1);
      await replica.kill();
      const boundary = replica.boundaries.at(-1);
      if (boundary) killedAt.push(`${boundary.phase}/${boundary.step}`);
    }
    const stats = await load.stop();
    const final = (await deployments.get(started.deployment.id))!;
    await store.close();
    return { final, killedAt, stats, shifts: productionShifts() - shiftsBefore };
  }

  const weights = () => productionWeights(aws, world);

  it("finishes a healthy canary 100% green, shifting traffic exactly once per step", async () => {
    const { final, killedAt, stats, shifts } = await deployThroughKills({ version: "crash-ok" });
    expect({ phase: final.phase, reason: final.state.reason }).toEqual({ phase: "succeeded", reason: null });
    expect(await weights()).toEqual({ blue: 0, green: 100 });
    expect(shifts).toBe(3);
    expect(stats.failures).toEqual({});
    // Killed after each kind of step on the way, not just some.
    const phasesKilledAfter = new Set(killedAt.map((boundary) => boundary.split("/")[0]));
    expect([...phasesKilledAfter].sort()).toEqual(["cooling", "preparing", "promoting", "shifting", "smoke-testing", "succeeded", "warming", "watching"]);
  }, 180_000);

  it("rolls a bad canary back to the serving colour, shifting out and back exactly once", async () => {
    // A first step wide and long enough that the failures show before it can pass, on a busy machine too.
    const { final, killedAt, shifts } = await deployThroughKills({ version: "crash-bad", errorRate: 0.2 }, { strategy: FIRST_STEP_CATCHES_10_PERCENT });
    expect(final.phase).toBe("rolled-back");
    // The healthy deployment before this one left green serving.
    expect(final.state.liveColour).toBe("green");
    expect(await weights()).toEqual({ blue: 0, green: 100 });
    expect(shifts).toBe(2);
    expect(killedAt).toContain("rolling-back/0");
  }, 180_000);
});
