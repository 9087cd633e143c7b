import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/audit-log.ts";
import { awsDeployTargets } from "../../src/deploy/aws-targets.ts";
import { DriftWatcher } from "../../src/deploy/drift-watcher.ts";
import { REPO, TEST_CREDENTIALS, sampleConfig, splitByHand, startDeployWorld, type DeployWorld } from "../support/deploy-world.ts";
import { startLoad } from "../support/load.ts";
import { silentLog } from "../support/probot.ts";

const SHORT_CANARY = {
  strategy: { type: "canary", steps: [{ weight: 25, bake: "1s" }, { weight: 100, bake: "1s" }] },
  postPromotionWatch: "1s",
  keepWarm: "0s",
  analysis: { interval: "1s", minRequests: 20, minP99Increase: "2s" },
};

describe("drift watcher on the local world", { timeout: 90_000 }, () => {
  let env: DeployWorld;
  let watcher: DriftWatcher;
  beforeEach(async () => {
    env = await startDeployWorld();
    // Far more often than in production, so that it looks at every moment of a deployment.
    watcher = new DriftWatcher({ deployments: env.deployments, targetsFor: awsDeployTargets({ endpoint: env.aws.endpoint, credentials: TEST_CREDENTIALS }), observer: env.observer, audit: new AuditLog(env.store), log: silentLog, intervalMs: 20 });
    watcher.start();
  });
  afterEach(async () => {
    await watcher.stop();
    await env.close();
  });

  async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    for (let attempt = 0; attempt < 600; attempt += 1) {
      const value = await probe();
      if (value !== undefined) return value;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it("never takes a deployment's own shifts for drift, and finds a change made behind its back, through a failing API", async () => {
    const load = startLoad(env.world.listeners.production.url, 100);
    const sha = await env.pushImage({ version: "v2" });
    const started = await env.controller.start({ repo: REPO, config: sampleConfig(env.aws, env.world, SHORT_CANARY), environment: "production", sha, requestedBy: "octocat", pullRequest: 7 });
    if (started.outcome === "refused") throw new Error(started.reason);
    expect((await env.until(started.deployment.id, ["succeeded", "rolled-back", "failed", "aborted"], 60_000)).phase).toBe("succeeded");
    await load.stop();
    // Looked at every 20 ms while weights moved 0 → 25 → 100: none of it was drift.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await env.deployments.drifts.find(REPO, "production")).toBeUndefined();

    // The load balancer's API fails for a while: the watcher keeps going and reports once it can read again.
    env.aws.faults.add({ service: "elbv2", operation: "DescribeListeners", kind: "error5xx", count: 20 });
    await splitByHand(env.aws, env.world, { blue: 10, green: 90 });
    const drift = await eventually("the drift", () => env.deployments.drifts.find(REPO, "production"));

    expect(drift).toMatchObject({ deploymentId: started.deployment.id, expected: { blue: 0, green: 100 }, observed: { blue: 10, green: 90 }, resolution: null });
    expect(env.aws.faults.list()).toEqual([]);
    const audited = (await new AuditLog(env.store).recent("acme/web")).filter((entry) => entry.decision === "detected");
    expect(audited).toHaveLength(1);
    expect(env.observer.changes.at(-1)).toMatchObject({ id: started.deployment.id, drift: { observed: { blue: 10, green: 90 } } });
  });
});
