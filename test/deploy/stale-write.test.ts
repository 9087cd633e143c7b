// A replica that dies with a weight change in flight: the change lands after another replica has
// aborted the deployment and scaled the new colour to zero. The ended deployment's read-back of its
// final weights must put traffic back, leaving no split and no traffic on a colour with no tasks.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeploymentStore } from "../../src/deploy/deployment-store.ts";
import { DeploymentRunner } from "../../src/deploy/runner.ts";
import { awsDeployTargets } from "../../src/deploy/aws-targets.ts";
import { openStore, type Store } from "../../src/store/open-store.ts";
import { startAwsEmulator, type AwsEmulator, type SampleWorld } from "../world/aws/index.ts";
import { FAST_TIMING, REPO, TEST_CREDENTIALS, desiredCount, productionWeights, randomSha, sampleConfig, until, untilServing } from "../support/deploy-world.ts";
import { silentLog } from "../support/probot.ts";
import { startLoad } from "../support/load.ts";
import { Replica, frontDoorFor } from "../support/replica.ts";

/** How long the load balancer sits on the dying replica's ModifyListener before applying it. */
const IN_FLIGHT_MS = 6_000;

describe("a weight change that lands after another replica ended the deployment", () => {
  let aws: AwsEmulator;
  let world: SampleWorld;
  let store: Store;
  let dataDir: string;
  beforeAll(async () => {
    aws = await startAwsEmulator({ healthCheckIntervalMs: 100 });
    world = await aws.seedSampleWorld();
    await untilServing(world.listeners.production.url);
    dataDir = mkdtempSync(join(tmpdir(), "gantry-stale-"));
    store = await openStore({ dataDir });
  });
  afterAll(async () => {
    await store.close();
    await aws.close();
  });

  it("is read back after the abort and repaired: all traffic on the serving colour, none on the one scaled to zero", async () => {
    const deployments = new DeploymentStore(store);
    const controller = frontDoorFor(deployments, aws.endpoint);
    const a = new Replica({ GANTRY_DATA_DIR: dataDir, GANTRY_INSTANCE_ID: "replica-a", LEASE_MS: "3000", HEARTBEAT_MS: "400", AWS_ENDPOINT_URL: aws.endpoint });
    const sha = randomSha();
    await aws.pushSampleImage(sha, { version: "stale-new" });
    const started = await controller.start({ repo: REPO, config: sampleConfig(aws, world), environment: "production", sha, requestedBy: "octocat", pullRequest: 1 });
    if (started.outcome === "refused") throw new Error(started.reason);
    const id = started.deployment.id;
    const row = async () => (await deployments.get(id))!;

    await until(async () => {
      const current = await row();
      return current.phase === "shifting" && current.state.stepStartedAt !== null;
    });
    const { liveColour } = (await row()).state;
    expect(liveColour).toBe("blue");

    // /promote makes replica a send ModifyListener (all to green); the load balancer holds it, a dies.
    aws.faults.add({ service: "elbv2", operation: "ModifyListener", kind: "latency", latencyMs: IN_FLIGHT_MS, count: 1 });
    expect((await controller.promote({ repo: REPO, environment: "production", by: "octocat" })).ok).toBe(true);
    await until(() => aws.faults.list().length === 0);
    await a.kill();
    expect((await controller.abort({ repo: REPO, environment: "production", by: "oncall" })).ok).toBe(true);

    const b = new DeploymentRunner({
      deployments,
      targetsFor: awsDeployTargets({ endpoint: aws.endpoint, credentials: TEST_CREDENTIALS }),
      observer: { deploymentChanged: async () => {} },
      log: silentLog,
      instanceId: "replica-b",
      leaseMs: 3_000,
      heartbeatMs: 400,
      finalCheckAfterMs: IN_FLIGHT_MS + 4_000,
      timing: FAST_TIMING,
    });
    b.start();
    try {
      await until(async () => (await row()).phase === "aborted");
      expect(await desiredCount(aws, world, "green")).toBe(0);
      // The dead replica's change lands now: everything to green, which has no tasks.
      await until(async () => (await productionWeights(aws, world)).green === 100);

      await until(async () => (await row()).state.finalCheck !== null, 30_000);
      const final = await row();
      expect(final.phase).toBe("aborted");
      expect(final.state.finalCheck).toMatchObject({ found: { blue: 0, green: 100 }, repaired: true, skipped: null });
      expect(await productionWeights(aws, world)).toEqual({ blue: 100, green: 0 });
    } finally {
      await b.stop();
    }
    const load = startLoad(world.listeners.production.url, 50);
    await sleep(2_000);
    const stats = await load.stop();
    expect(stats.sent).toBeGreaterThan(0);
    expect(stats.failed).toBe(0);
    expect(Object.keys(stats.byVersion)).toEqual([expect.not.stringMatching(/stale-new/)]);
  }, 120_000);
});
