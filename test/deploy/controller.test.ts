import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FIRST_STEP_CATCHES_10_PERCENT, REPO, desiredCount as desiredCountOf, productionWeights, sampleConfig, startDeployWorld, type DeployWorld } from "../support/deploy-world.ts";
import { startLoad } from "../support/load.ts";

describe("deployment controller on the local world, with real traffic", () => {
  let env: DeployWorld;
  beforeEach(async () => {
    env = await startDeployWorld();
  });
  afterEach(async () => {
    await env.close();
  });

  const liveWeights = () => productionWeights(env.aws, env.world);
  const desiredCount = (colour: "blue" | "green") => desiredCountOf(env.aws, env.world, colour);

  it("takes a healthy version through 5 → 25 → 100 and ends all green with no failed request", async () => {
    const sha = await env.pushImage({ version: "v2" });
    const load = startLoad(env.world.listeners.production.url, 150);
    const started = await env.controller.start({ repo: REPO, config: sampleConfig(env.aws, env.world), environment: "production", sha, requestedBy: "octocat", pullRequest: 7 });
    expect(started.outcome).toBe("started");
    const id = started.outcome === "refused" ? "" : started.deployment.id;

    const done = await env.until(id, ["succeeded", "rolled-back", "failed"], 90_000);
    const stats = await load.stop();

    expect({ phase: done.phase, reason: done.reason }).toEqual({ phase: "succeeded", reason: null });
    expect(await liveWeights()).toEqual({ blue: 0, green: 100 });
    expect(stats.failures).toEqual({});
    expect(stats.byVersion.v2!.total).toBeGreaterThan(0);
    expect(await desiredCount("blue")).toBe(0);
    const weightsSeen = env.observer.changes.filter((change) => change.id === id && change.weights).map((change) => change.weights!.green);
    expect([...new Set(weightsSeen)]).toEqual([0, 5, 25, 100]);
    expect(done.verdicts.length).toBeGreaterThanOrEqual(3);
    expect(done.verdicts.filter((verdict) => verdict.decision === "fail")).toEqual([]);
    expect(env.observer.phasesOf(id)).toEqual(expect.arrayContaining(["preparing", "warming", "smoke-testing", "shifting", "promoting", "watching", "cooling", "succeeded"]));
  }, 120_000);

  it("rolls a version with 10% 5xx back at the first step, with the evidence recorded", async () => {
    const sha = await env.pushImage({ version: "v3-bad", errorRate: 0.1 });
    const load = startLoad(env.world.listeners.production.url, 150);
    const config = sampleConfig(env.aws, env.world, { strategy: FIRST_STEP_CATCHES_10_PERCENT });
    const started = await env.controller.start({ repo: REPO, config, environment: "production", sha, requestedBy: "octocat", pullRequest: 7 });
    const id = started.outcome === "refused" ? "" : started.deployment.id;

    const done = await env.until(id, ["succeeded", "rolled-back", "failed"], 90_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stats = await load.stop();

    expect(done.phase).toBe("rolled-back");
    expect(done.step).toBe(0);
    expect(await liveWeights()).toEqual({ blue: 100, green: 0 });
    const failing = done.verdicts.at(-1)!;
    expect(failing).toMatchObject({ decision: "fail", step: 0 });
    expect(failing.canary.errors).toBeGreaterThan(0);
    expect(failing.control.errors).toBe(0);
    expect(done.reason).toBe(failing.reason);
    expect(done.timeToRestoreMs).toBeGreaterThanOrEqual(0);
    // The failed verdict and the restore are one tick: nothing is saved, reported or claimed between them.
    const firstRollingBack = env.observer.changes.find((change) => change.id === id && change.phase === "rolling-back")!;
    expect({ weights: firstRollingBack.weights, restored: firstRollingBack.timeToRestoreMs !== null }).toEqual({ weights: { blue: 100, green: 0 }, restored: true });
    // Clients saw errors only from the bad version, at the canary's share, and none after the restore.
    expect(stats.byVersion.v1!.failed).toBe(0);
    expect(Object.keys(stats.failures)).toEqual(["500 from v3-bad"]);
    expect(stats.byVersion["v3-bad"]!.total).toBeLessThan(stats.sent * 0.15);
    expect(await desiredCount("green")).toBe(0);
  }, 120_000);

  it("refuses at once a commit with no image in ECR where Gantry builds none, and creates nothing", async () => {
    const sha = "f".repeat(40);
    const result = await env.controller.start({ repo: REPO, config: sampleConfig(env.aws, env.world), environment: "production", sha, requestedBy: "octocat", pullRequest: 7 });
    expect(result).toEqual({
      outcome: "refused",
      reason: `no image tagged ${sha} in ECR repository ${env.world.repositoryName}, and this Gantry builds no images (GANTRY_IMAGE_BUILDER is unset): build and push it before deploying`,
    });
    expect(await env.controller.history(REPO)).toEqual([]);
    expect(env.observer.changes).toEqual([]);
  });
});
