// The warm-up timeout comes from the target group's own settings (health checks, deregistration
// delay), read from AWS, plus the operator's allowance for tasks to start: not one fixed figure.
import { ECSClient } from "@aws-sdk/client-ecs";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { describe, expect, it } from "vitest";
import { EcsFleet } from "../../src/deploy/ecs-fleet.ts";
import { targetGroupWaitMs } from "../../src/deploy/phases/warm.ts";
import { REPO, productionWeights, sampleConfig, startDeployWorld } from "../support/deploy-world.ts";
import { startAwsEmulator } from "../world/aws/index.ts";

describe("warm-up timeout", () => {
  it("reads AWS's default health checks and deregistration delay from the target group (emulator at time scale 1/20)", async () => {
    const aws = await startAwsEmulator({ timeScale: 1 / 20 });
    try {
      const world = await aws.seedSampleWorld();
      const fleet = new EcsFleet({
        ecs: new ECSClient(aws.clientConfig()),
        elbv2: new ElasticLoadBalancingV2Client(aws.clientConfig()),
        cluster: world.clusterArn,
        services: { blue: world.services.blue.name, green: world.services.green.name },
        targetGroups: world.targetGroups,
      });
      const timing = await fleet.targetGroupTiming("green");
      expect(timing).toEqual({ healthCheckIntervalMs: 30_000, healthCheckTimeoutMs: 5_000, healthyThreshold: 5, deregistrationDelayMs: 300_000 });
      // Six intervals (five passes, one for the first check's phase), a timeout, the whole deregistration delay.
      expect(targetGroupWaitMs(timing)).toBe(485_000);
    } finally {
      await aws.close();
    }
  }, 30_000);

  it("fails a colour that never turns healthy only after the start allowance and what its target group takes, saying both", async () => {
    const env = await startDeployWorld({ timing: { warmTimeoutMs: 500 } });
    try {
      const sha = await env.pushImage({ version: "v2", failHealthCheck: true });
      const started = await env.controller.start({ repo: REPO, config: sampleConfig(env.aws, env.world), environment: "production", sha, requestedBy: "octocat", pullRequest: 7 });
      if (started.outcome === "refused") throw new Error(started.reason);
      const done = await env.until(started.deployment.id, ["succeeded", "rolled-back", "failed"], 60_000);
      // The fast world's target groups report 1 s checks (2 to healthy, 1 s timeout) and a 5 s deregistration delay: 0.5 + 3 + 1 + 5 s.
      expect(done.phase).toBe("failed");
      expect(done.reason).toMatch(
        /^green did not become healthy within 10s \(1s to start tasks, then 2 health checks 1s apart and a 5s deregistration delay, as its target group is set; \d\/\d tasks running, 0\/\d targets healthy\)/,
      );
      const warming = env.observer.changes.find((c) => c.id === done.id && c.phase === "warming")!.updatedAt;
      const failedAt = env.observer.changes.find((c) => c.id === done.id && c.phase === "rolling-back")!.updatedAt;
      expect(failedAt - warming).toBeGreaterThanOrEqual(9_500);
      expect(await productionWeights(env.aws, env.world)).toEqual({ blue: 100, green: 0 });
    } finally {
      await env.close();
    }
  }, 90_000);
});
