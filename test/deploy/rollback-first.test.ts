// A rollback never waits for a free slot: with every slot of the runner busy on a tick that hangs
// on AWS, /rollback of another deployment is taken into the slot kept for it and restores traffic.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsDeployTargets } from "../../src/deploy/aws-targets.ts";
import { Controller } from "../../src/deploy/controller.ts";
import { DeploymentStore } from "../../src/deploy/deployment-store.ts";
import { DeploymentRunner } from "../../src/deploy/runner.ts";
import { openStore, type Store } from "../../src/store/open-store.ts";
import { startAwsEmulator, type AwsEmulator, type SampleWorld } from "../world/aws/index.ts";
import { FAST_TIMING, REPO, TEST_CREDENTIALS, productionWeights, randomSha, sampleConfig, until, untilServing } from "../support/deploy-world.ts";
import { silentLog } from "../support/probot.ts";

describe("a runner whose every slot is busy", () => {
  let aws: AwsEmulator;
  let world: SampleWorld;
  let store: Store;
  beforeAll(async () => {
    aws = await startAwsEmulator({ healthCheckIntervalMs: 100 });
    world = await aws.seedSampleWorld();
    await untilServing(world.listeners.production.url);
    store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), "gantry-rollback-first-")) });
  });
  afterAll(async () => {
    await store.close();
    await aws.close();
  });

  it("still takes a /rollback next and restores traffic while the busy tick hangs", async () => {
    const deployments = new DeploymentStore(store);
    const targetsFor = awsDeployTargets({ endpoint: aws.endpoint, credentials: TEST_CREDENTIALS });
    const runner = new DeploymentRunner({ deployments, targetsFor, observer: { deploymentChanged: async () => {} }, log: silentLog, instanceId: "busy", concurrency: 1, timing: FAST_TIMING });
    const controller = new Controller({ deployments, observer: { deploymentChanged: async () => {} }, wake: () => runner.wake(), targetsFor });
    const production = sampleConfig(aws, world, { strategy: { type: "canary", steps: [{ weight: 5, bake: "5m" }, { weight: 100, bake: "1s" }] } }).environments.production!;
    const config = { ...sampleConfig(aws, world), environments: { production, staging: production } };
    runner.start();
    try {
      const sha = randomSha();
      await aws.pushSampleImage(sha, { version: "rollback-first" });
      const canary = await controller.start({ repo: REPO, config, environment: "production", sha, requestedBy: "octocat", pullRequest: 1 });
      if (canary.outcome !== "started") throw new Error("the canary did not start");
      await until(async () => (await productionWeights(aws, world)).green === 5 && (await deployments.get(canary.deployment.id))!.phase === "shifting");

      // The one slot: a staging deployment whose first tick hangs on ECS for far longer than the test waits.
      // Four: /deploy's check of the two services (which gives up waiting after 5 s, before the SDK's 10 s attempt timeout retries them) takes two, the tick the others.
      aws.faults.add({ service: "ecs", operation: "DescribeServices", kind: "latency", latencyMs: 20_000, count: 4 });
      const busy = await controller.start({ repo: REPO, config, environment: "staging", sha, requestedBy: "octocat", pullRequest: 2 });
      if (busy.outcome !== "started") throw new Error("the staging deployment did not start");
      await until(() => aws.faults.list().length === 0);

      expect((await controller.rollback({ repo: REPO, environment: "production", by: "oncall" })).ok).toBe(true);
      await until(async () => (await productionWeights(aws, world)).green === 0);
      // The busy tick is still hanging (its DescribeServices is held for 20 s), so it has not moved on.
      expect((await deployments.get(busy.deployment.id))!.phase).toBe("preparing");
      expect((await deployments.get(canary.deployment.id))!.state.timeToRestoreMs).not.toBeNull();
    } finally {
      await runner.stop();
    }
  }, 120_000);
});
