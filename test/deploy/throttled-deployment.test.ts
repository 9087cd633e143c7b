// A deployment under AWS throttling: throttled calls back off and are retried, and the deployment
// still ends as it would have. The fast world, with ELBv2 and ECS buckets far below AWS's.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { REPO, productionWeights, sampleConfig, startDeployWorld, type DeployWorld } from "../support/deploy-world.ts";
import { startLoad } from "../support/load.ts";
import { AWS_RATE_LIMITS, type BucketRule } from "../world/aws/index.ts";

/** Three calls of burst and three a second: a few deployments' worth of AWS's budget. */
const TIGHT: BucketRule[] = AWS_RATE_LIMITS.map((rule) => (rule.service === "elbv2" || rule.service === "ecs" ? { ...rule, capacity: 3, refillPerSecond: 3 } : rule));

describe("a deployment under throttling", () => {
  let env: DeployWorld;
  beforeEach(async () => {
    env = await startDeployWorld({ emulator: { healthCheckIntervalMs: 100, rateLimits: TIGHT } });
  });
  afterEach(async () => {
    await env.close();
  });

  it("is throttled, backs off, and still succeeds", async () => {
    const sha = await env.pushImage({ version: "v2" });
    const load = startLoad(env.world.listeners.production.url, 150);
    const started = await env.controller.start({ repo: REPO, config: sampleConfig(env.aws, env.world), environment: "production", sha, requestedBy: "octocat", pullRequest: 7 });
    expect(started.outcome).toBe("started");
    const id = started.outcome === "refused" ? "" : started.deployment.id;

    const done = await env.until(id, ["succeeded", "rolled-back", "failed"], 150_000);
    const stats = await load.stop();

    expect({ phase: done.phase, reason: done.reason }).toEqual({ phase: "succeeded", reason: null });
    expect(await productionWeights(env.aws, env.world)).toEqual({ blue: 0, green: 100 });
    const throttled = [...(env.aws.rateLimits?.throttled.values() ?? [])].reduce((a, b) => a + b, 0);
    expect(throttled).toBeGreaterThan(0);
    expect(stats.failures).toEqual({});
  }, 180_000);
});
