// Deployment controllers and ECS's circuit breaker, through the public path on the local world
// (the fast world: no time scale; health checks every 100 ms).
import { UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { REPO, productionWeights, sampleConfig, startDeployWorld, type DeployWorld } from "../support/deploy-world.ts";
import { clients } from "../world/aws/test-helpers.ts";

describe("deployment controllers", () => {
  let env: DeployWorld;
  beforeEach(async () => {
    env = await startDeployWorld();
  });
  afterEach(async () => {
    await env.close();
  });

  const start = (sha: string) =>
    env.controller.start({ repo: REPO, config: sampleConfig(env.aws, env.world), environment: "production", sha, requestedBy: "octocat", pullRequest: 7 });

  it("refuses /deploy to a service under the CODE_DEPLOY controller, saying what to change, and touches nothing", async () => {
    const sha = await env.pushImage({ version: "v2" });
    env.aws.configureService(env.world.clusterArn, env.world.services.green.name, { deploymentController: "CODE_DEPLOY" });
    const callsBefore = env.aws.calls.length;

    const result = await start(sha);

    expect(result.outcome).toBe("refused");
    const reason = result.outcome === "refused" ? result.reason : "";
    expect(reason).toContain("green ECS service uses the CODE_DEPLOY deployment controller");
    expect(reason).toContain("deploymentController type ECS");
    expect(await env.controller.history(REPO)).toEqual([]);
    const writes = env.aws.calls.slice(callsBefore).filter((c) => !/^(Describe|List|Get|AssumeRole)/.test(c.operation));
    expect(writes).toEqual([]);
  });

  it("refuses an EXTERNAL controller on the serving colour too", async () => {
    const sha = await env.pushImage({ version: "v2" });
    env.aws.configureService(env.world.clusterArn, env.world.services.blue.name, { deploymentController: "EXTERNAL" });
    const result = await start(sha);
    expect(result).toMatchObject({ outcome: "refused", reason: expect.stringContaining("blue ECS service uses the EXTERNAL deployment controller") });
  });

  it("notices and reports a circuit-breaker rollback of the idle colour", async () => {
    const { ecs } = clients(env.aws);
    await ecs.send(
      new UpdateServiceCommand({
        cluster: env.world.clusterArn,
        service: env.world.services.green.name,
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      }),
    );
    const sha = await env.pushImage({ version: "v2-crash", exitAtStart: true });
    const started = await start(sha);
    const id = started.outcome === "refused" ? "" : started.deployment.id;

    const done = await env.until(id, ["succeeded", "rolled-back", "failed"], 60_000);

    expect(done.phase).toBe("failed");
    expect(done.reason).toContain("circuit breaker failed the green service's rollout");
    expect(await productionWeights(env.aws, env.world)).toEqual({ blue: 100, green: 0 });
  }, 90_000);
});
