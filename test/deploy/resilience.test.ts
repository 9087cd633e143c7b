import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TERMINAL_PHASES, type DeploymentView, type Phase } from "../../src/deploy/api.ts";
import { tick } from "../../src/deploy/tick.ts";
import type { TickContext } from "../../src/deploy/tick-context.ts";
import { FIRST_STEP_CATCHES_10_PERCENT, REPO, desiredCount, productionWeights, sampleConfig, startDeployWorld, type DeployWorld } from "../support/deploy-world.ts";
import { deploymentFixture } from "../support/deployment-fixture.ts";
import { startLoad } from "../support/load.ts";

const ENDED: Phase[] = [...TERMINAL_PHASES];
const ANALYSIS = { interval: "1s", metricsDelay: "0s", minRequests: 20, minP99Increase: "2s" };
/** A canary short enough to run several deployments in one test, still with a real step before 100%. */
const SHORT_CANARY = { strategy: { type: "canary", steps: [{ weight: 25, bake: "1s" }, { weight: 100, bake: "1s" }] }, postPromotionWatch: "1s", analysis: ANALYSIS };

describe("deployment controller under faults and people's commands, with real traffic", { timeout: 90_000 }, () => {
  let env: DeployWorld;
  beforeEach(async () => {
    env = await startDeployWorld();
  });
  afterEach(async () => {
    await env.close();
  });

  const liveWeights = () => productionWeights(env.aws, env.world);

  const start = (sha: string, environment: Record<string, unknown> = {}): Promise<DeploymentView> => env.start(sha, { analysis: ANALYSIS, ...environment });

  /** Green's weight in every ModifyListener the emulator carried out on the production listener, in order. */
  function greenShifts(from = 0): number[] {
    return env.aws.calls.slice(from).flatMap(({ operation, input }) => {
      const call = input as { ListenerArn?: string; DefaultActions?: { ForwardConfig?: { TargetGroups?: { TargetGroupArn: string; Weight: string }[] } }[] };
      if (operation !== "ModifyListener" || call.ListenerArn !== env.world.listeners.production.arn) return [];
      const groups = call.DefaultActions?.[0]?.ForwardConfig?.TargetGroups ?? [];
      return [Number(groups.find((group) => group.TargetGroupArn === env.world.targetGroups.green)?.Weight ?? 0)];
    });
  }

  /** Waits until the deployment reports a phase and, optionally, a weight on green. */
  async function untilSeen(id: string, phase: Phase, green?: number): Promise<void> {
    for (let attempt = 0; attempt < 1_200; attempt += 1) {
      if (env.observer.changes.some((change) => change.id === id && change.phase === phase && (green === undefined || change.weights?.green === green))) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`deployment ${id} never reported ${phase}${green === undefined ? "" : ` at green ${green}%`}`);
  }

  /** Which versions answer production traffic now. */
  async function servedVersions(): Promise<string[]> {
    const load = startLoad(env.world.listeners.production.url, 50);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stats = await load.stop();
    expect(stats.failed).toBe(0);
    return Object.keys(stats.byVersion);
  }

  describe("with 20% of ELBv2 and ECS calls throttled", () => {
    beforeEach(() => {
      env.aws.faults.add({ service: "elbv2", kind: "throttle", rate: 0.2 });
      env.aws.faults.add({ service: "ecs", kind: "throttle", rate: 0.2 });
    });

    it("still takes a healthy version to 100% green, shifting each step exactly once", async () => {
      const sha = await env.pushImage({ version: "v2" });
      const load = startLoad(env.world.listeners.production.url, 150);
      const steps = [{ weight: 5, bake: "2s" }, { weight: 25, bake: "1s" }, { weight: 100, bake: "1s" }];
      const { id } = await start(sha, { strategy: { type: "canary", steps }, postPromotionWatch: "1s" });

      const done = await env.until(id, ENDED, 80_000);
      const stats = await load.stop();
      const throttled = env.aws.faults.list().reduce((sum, fault) => sum + fault.hits, 0);
      env.aws.faults.clear();

      expect({ phase: done.phase, reason: done.reason }).toEqual({ phase: "succeeded", reason: null });
      expect(await liveWeights()).toEqual({ blue: 0, green: 100 });
      // Throttled calls were retried, not repeated after success: one ModifyListener per step.
      expect(throttled).toBeGreaterThan(0);
      expect(greenShifts()).toEqual([5, 25, 100]);
      expect(stats.failed).toBe(0);
    });

    it("still rolls a version with 10% 5xx back to 100% blue", async () => {
      const sha = await env.pushImage({ version: "v3-bad", errorRate: 0.1 });
      const load = startLoad(env.world.listeners.production.url, 150);
      const { id } = await start(sha, { strategy: FIRST_STEP_CATCHES_10_PERCENT });

      const done = await env.until(id, ENDED, 80_000);
      const stats = await load.stop();
      env.aws.faults.clear();

      expect(done.phase).toBe("rolled-back");
      expect(done.verdicts.at(-1)).toMatchObject({ decision: "fail", step: 0 });
      expect(done.timeToRestoreMs).not.toBeNull();
      expect(await liveWeights()).toEqual({ blue: 100, green: 0 });
      expect(greenShifts()).toEqual([10, 0]);
      expect(stats.byVersion.v1!.failed).toBe(0);
    });
  });

  describe("/rollback", () => {
    it("puts traffic back on the warm old colour in one verified call while the new one cools", async () => {
      const sha = await env.pushImage({ version: "v2" });
      const load = startLoad(env.world.listeners.production.url, 100);
      const { id } = await start(sha, { ...SHORT_CANARY, keepWarm: "8s" });
      await env.until(id, ["cooling"], 40_000);
      const callsBefore = env.aws.calls.length;

      const asked = await env.controller.rollback({ repo: REPO, environment: "production", by: "alice", reason: "checkout is broken" });
      expect(asked.ok).toBe(true);
      const done = await env.until(id, ENDED);
      const stats = await load.stop();

      expect(done.phase).toBe("rolled-back");
      expect(done.reason).toBe("rollback requested by @alice: checkout is broken");
      expect(done.timeToRestoreMs).not.toBeNull();
      expect(await liveWeights()).toEqual({ blue: 100, green: 0 });
      expect(greenShifts(callsBefore)).toEqual([0]);
      expect(await servedVersions()).toEqual(["v1"]);
      // Blue was still running, so no client saw an error on the way there or back.
      expect(stats.byVersion.v2!.total).toBeGreaterThan(0);
      expect(stats.failed).toBe(0);
    });

    it("redeploys the previous successful commit by the fast path once the old colour is gone", async () => {
      const previous = await env.pushImage({ version: "v2" });
      const latest = await env.pushImage({ version: "v3" });
      const load = startLoad(env.world.listeners.production.url, 100);
      for (const sha of [previous, latest]) {
        const { id } = await start(sha, { ...SHORT_CANARY, keepWarm: "0s" });
        expect((await env.until(id, ENDED, 40_000)).phase).toBe("succeeded");
      }
      expect(await liveWeights()).toEqual({ blue: 100, green: 0 });
      expect(await desiredCount(env.aws, env.world, "green")).toBe(0);

      const asked = await env.controller.rollback({ repo: REPO, environment: "production", by: "alice" });
      if (!asked.ok) throw new Error(asked.reason);
      const redeploy = asked.deployment;
      const done = await env.until(redeploy.id, ENDED, 40_000);
      const stats = await load.stop();

      expect({ sha: done.sha, phase: done.phase }).toEqual({ sha: previous, phase: "succeeded" });
      const phases = env.observer.phasesOf(redeploy.id);
      expect(phases).toEqual(expect.arrayContaining(["preparing", "warming", "smoke-testing", "promoting", "watching", "succeeded"]));
      expect(phases).not.toContain("shifting");
      expect(await liveWeights()).toEqual({ blue: 0, green: 100 });
      expect(await servedVersions()).toEqual(["v2"]);
      expect(stats.failed).toBe(0);
    });

    // Regression: the cooling deployment was rolled back in place onto an old colour that a later,
    // rolled-back deployment had taken over and scaled to zero: all traffic to no tasks.
    it("redeploys instead when a later deployment has taken over the cooling deployment's old colour", async () => {
      const first = await env.pushImage({ version: "v2" });
      const second = await env.pushImage({ version: "v3" });
      const bad = await env.pushImage({ version: "v4-bad", errorRate: 0.2 });
      const load = startLoad(env.world.listeners.production.url, 100);
      expect((await env.until((await start(first, SHORT_CANARY)).id, ENDED, 40_000)).phase).toBe("succeeded");
      const cooling = await start(second, { ...SHORT_CANARY, keepWarm: "60s" });
      await env.until(cooling.id, ["cooling"], 40_000);
      // v4 goes onto green, where v2 was kept warm, fails its canary and leaves green scaled to zero.
      // Its first step is wide and long enough for its failures to show on a starved machine: 25% for 1 s was not.
      expect((await env.until((await start(bad, { ...SHORT_CANARY, strategy: FIRST_STEP_CATCHES_10_PERCENT })).id, ENDED, 40_000)).phase).toBe("rolled-back");
      expect(await liveWeights()).toEqual({ blue: 100, green: 0 });

      const asked = await env.controller.rollback({ repo: REPO, environment: "production", by: "alice" });
      if (!asked.ok) throw new Error(asked.reason);
      // The redeploy runs with v3's config: it keeps its own old colour warm, so it ends up cooling.
      const done = await env.until(asked.deployment.id, ["cooling", ...ENDED], 40_000);
      const stats = await load.stop();

      expect({ id: done.id === cooling.id ? "the cooling one" : "a redeploy", sha: done.sha, phase: done.phase }).toEqual({ id: "a redeploy", sha: first, phase: "cooling" });
      expect(env.observer.phasesOf(done.id)).not.toContain("shifting");
      expect(await servedVersions()).toEqual(["v2"]);
      expect(stats.byVersion.v3!.failed).toBe(0);
      expect(stats.byVersion.v2!.failed).toBe(0);
    });
  });

  describe("/abort and /promote", () => {
    it("/abort during a canary step restores traffic and ends aborted", async () => {
      const sha = await env.pushImage({ version: "v2" });
      const load = startLoad(env.world.listeners.production.url, 100);
      const { id } = await start(sha, { strategy: { type: "canary", steps: [{ weight: 5, bake: "30s" }, { weight: 100, bake: "1s" }] } });
      await untilSeen(id, "shifting", 5);

      const asked = await env.controller.abort({ repo: REPO, environment: "production", by: "alice", reason: "wrong branch" });
      expect(asked.ok).toBe(true);
      const done = await env.until(id, ENDED);
      const stats = await load.stop();

      expect({ phase: done.phase, reason: done.reason }).toEqual({ phase: "aborted", reason: "aborted by @alice: wrong branch" });
      expect(done.timeToRestoreMs).not.toBeNull();
      expect(await liveWeights()).toEqual({ blue: 100, green: 0 });
      expect(greenShifts()).toEqual([5, 0]);
      expect(stats.failed).toBe(0);
      // The tick that takes the request restores the weights before anything is saved or reported.
      const firstRollingBack = env.observer.changes.find((change) => change.id === id && change.phase === "rolling-back")!;
      expect({ weights: firstRollingBack.weights, restored: firstRollingBack.timeToRestoreMs !== null }).toEqual({ weights: { blue: 100, green: 0 }, restored: true });
    });

    it("pauses a canary at 1 request per second instead of passing or failing it; /promote continues it", async () => {
      const sha = await env.pushImage({ version: "v2" });
      const load = startLoad(env.world.listeners.production.url, 1);
      const { id } = await start(sha, { ...SHORT_CANARY, analysis: { ...ANALYSIS, maxExtensions: 0 }, keepWarm: "0s" });
      const promote = async () => {
        const asked = await env.controller.promote({ repo: REPO, environment: "production", by: "alice" });
        if (!asked.ok) throw new Error(asked.reason);
      };

      const paused = await env.until(id, ["paused", ...ENDED], 40_000);
      expect({ phase: paused.phase, step: paused.step }).toEqual({ phase: "paused", step: 0 });
      expect(paused.verdicts.map((verdict) => verdict.decision)).toEqual(["inconclusive"]);
      expect(paused.reason).toMatch(/^still too little canary traffic after 0 extensions/);
      // The canary keeps its weight only if it has answered a request; an unknown canary keeps none while a person decides.
      if (paused.reason!.includes("holding the canary's weight")) expect(paused.weights).toEqual({ blue: 75, green: 25 });
      else expect({ reason: paused.reason, weights: paused.weights }).toEqual({ reason: expect.stringContaining("took the canary's weight off"), weights: { blue: 100, green: 0 } });

      // The next step is 100%: promotion, then the post-promotion watch, inconclusive again.
      await promote();
      await untilSeen(id, "watching");
      const watched = await env.until(id, ["paused", ...ENDED], 40_000);
      expect({ phase: watched.phase, step: watched.step, weights: watched.weights }).toEqual({ phase: "paused", step: 1, weights: { blue: 0, green: 100 } });
      await promote();
      const done = await env.until(id, ENDED, 40_000);
      const stats = await load.stop();

      expect(done.phase).toBe("succeeded");
      expect(done.verdicts.map((verdict) => verdict.decision)).toEqual(["inconclusive", "inconclusive"]);
      expect(await liveWeights()).toEqual({ blue: 0, green: 100 });
      expect(stats.failed).toBe(0);
    });
  });

  describe("environment locks", () => {
    it("refuses to start in a locked environment, naming the holder", async () => {
      const locked = await env.controller.lock({ repo: REPO, environment: "production", by: "alice", reason: "release freeze", pullRequest: null });
      expect(locked.ok).toBe(true);
      const sha = await env.pushImage({ version: "v2" });

      const result = await env.controller.start({ repo: REPO, config: sampleConfig(env.aws, env.world), environment: "production", sha, requestedBy: "octocat", pullRequest: 7 });

      expect(result).toEqual({ outcome: "refused", reason: "production is locked by @alice (`release freeze`); /unlock production first" });
      expect(await env.controller.history(REPO)).toEqual([]);
    });

    it("queues a second start while one runs, and runs it after the first lets go of the environment", async () => {
      const first = await env.pushImage({ version: "v2" });
      const second = await env.pushImage({ version: "v3" });
      const load = startLoad(env.world.listeners.production.url, 100);
      const a = await start(first, SHORT_CANARY);
      const b = await env.controller.start({ repo: REPO, config: sampleConfig(env.aws, env.world, SHORT_CANARY), environment: "production", sha: second, requestedBy: "hubot", pullRequest: 8 });
      expect(b.outcome).toBe("queued");
      const bId = b.outcome === "queued" ? b.deployment.id : "";

      const [doneA, doneB] = await Promise.all([env.until(a.id, ENDED, 40_000), env.until(bId, ENDED, 60_000)]);
      const stats = await load.stop();

      expect([doneA.phase, doneB.phase]).toEqual(["succeeded", "succeeded"]);
      // B stayed queued until A reached cooling, the phase that lets go of the environment.
      const order = env.observer.changes.map((change) => `${change.id === a.id ? "A" : "B"}:${change.phase}`);
      expect(order.indexOf("B:preparing")).toBeGreaterThan(order.indexOf("A:cooling"));
      expect(new Set(order.slice(0, order.indexOf("A:cooling")).filter((entry) => entry.startsWith("B:")))).toEqual(new Set(["B:queued"]));
      expect(await liveWeights()).toEqual({ blue: 100, green: 0 });
      expect(await servedVersions()).toEqual(["v3"]);
      expect(stats.failed).toBe(0);
    });
  });
});

describe("time to restore of a person's /rollback or /abort", () => {
  // Regression: the decision was stamped when the tick ran, so a request that waited for a slow tick
  // in flight (GetMetricData under throttling) was left out of the recorded time.
  it.each(["rollback", "abort"] as const)("/%s counts from the request, not from the tick that acts on it", async (kind) => {
    const requestedAt = 1_000;
    const deployment = deploymentFixture({
      id: "d-1",
      sha: "a".repeat(40),
      phase: "shifting",
      state: { liveColour: "blue", stepStartedAt: 500 },
      pendingAction: { kind, by: "alice", reason: null, at: requestedAt },
      nextTickAt: requestedAt,
    });
    // Applying a pending action touches nothing but the clock.
    const context = { now: () => requestedAt + 5_000 } as TickContext;

    const transition = await tick(deployment, context);

    expect(transition).toMatchObject({ phase: "rolling-back", state: { decidedAt: requestedAt } });
  });
});
