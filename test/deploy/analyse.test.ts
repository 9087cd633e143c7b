// One look of the judge inside a deployment tick, against the emulated ALB and its CloudWatch: where
// the window lies in time, and what a bake that ends without enough canary traffic does to the weights.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { judge } from "../../src/analysis/judge.ts";
import { awsDeployTargets } from "../../src/deploy/aws-targets.ts";
import { Deadline } from "../../src/deploy/deadline.ts";
import type { Deployment } from "../../src/deploy/deployment-state.ts";
import { shift } from "../../src/deploy/phases/shift.ts";
import type { TickContext } from "../../src/deploy/tick-context.ts";
import { runOnGreen, startWorld, type TestWorld } from "../aws/world.ts";
import { REPO, sampleConfig } from "../support/deploy-world.ts";
import { deploymentFixture } from "../support/deployment-fixture.ts";
import { load } from "../world/aws/test-helpers.ts";

let t: TestWorld;
beforeAll(async () => {
  // Health checks that give a task half a second to answer: these tests are about windows and traffic,
  // and on a starved machine a 100 ms check failed both green tasks, so the judge saw no healthy target.
  t = await startWorld({ healthCheckIntervalMs: 500 });
});
afterAll(() => t.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function setup(analysis: Record<string, unknown>, weight: number) {
  const environment = sampleConfig(t.emu, t.world, {
    strategy: { type: "canary", steps: [{ weight, bake: "1s" }, { weight: 100, bake: "1s" }] },
    analysis: { interval: "1s", minRequests: 100, maxExtensions: 0, ...analysis },
  }).environments.production!;
  const targets = awsDeployTargets({ endpoint: t.emu.endpoint, credentials: t.emu.clientConfig().credentials })(REPO, "production", environment);
  const context: TickContext = {
    targets,
    now: () => Date.now(),
    guard: async () => new Deadline(10_000),
    judge,
    acquireLock: async () => true,
    supersededBy: async () => false,
    holdOldColour: async () => true,
    takeOverOldColours: async () => true,
    timing: { pollMs: 100, warmTimeoutMs: 10_000, idleMs: 500, maxFailures: 3, awsClockScale: 1 },
  };
  const deployment = (stepStartedAt: number): Deployment =>
    deploymentFixture({
      id: "d",
      sha: "a".repeat(40),
      phase: "shifting",
      state: { environment, liveColour: "blue", stepStartedAt, weights: { blue: 100 - weight, green: weight } },
    });
  return { context, deployment, router: targets.router };
}

describe("a look of the judge in a canary step", { timeout: 60_000 }, () => {
  it("judges only windows that end metricsDelay before now, on whole seconds, and waits until one is complete", async () => {
    const { context, deployment, router } = setup({ metricsDelay: "3s", maxExtensions: 3 }, 5);
    await router.setWeights({ blue: 95, green: 5 });
    const now = Date.now();
    const early = await shift(deployment(now - 1_500), context);
    expect(early.state.verdicts).toEqual([]);
    // The first second after the shift is complete 3 s after it ends.
    expect(early.nextTickAt - now).toBeGreaterThan(1_000);
    expect(early.nextTickAt).toBe(Math.ceil(Math.ceil(now - 1_500) / 1000) * 1000 + 1000 + 3_000);

    const started = Date.now() - 10_000;
    const looked = await shift(deployment(started), context);
    const [verdict] = looked.state.verdicts;
    expect(verdict!.windowStart).toBe(Math.ceil(started / 1000) * 1000);
    expect(verdict!.windowEnd).toBeLessThanOrEqual(Date.now() - 3_000);
    expect(verdict!.windowEnd % 1000).toBe(0);
    expect(looked.state.judge).toMatchObject({ since: started, judgedUntil: verdict!.windowEnd });
  });

  it("takes the weight off a canary that answered nothing before asking a person, and says so", async () => {
    const { context, deployment, router } = setup({ metricsDelay: "0s" }, 5);
    await router.setWeights({ blue: 95, green: 5 });
    const paused = await shift(deployment(Date.now() - 5_000), context);
    expect(paused.phase).toBe("paused");
    expect(paused.state.reason).toMatch(/^still too little canary traffic after 0 extensions .*; took the canary's weight off, since it has answered no request/);
    expect(paused.state.weights).toEqual({ blue: 100, green: 0 });
    expect(await router.getWeights()).toEqual({ blue: 100, green: 0 });
  });

  it("holds the weight of a canary that answered requests, too few to pass, and says so", async () => {
    // About too little traffic, not latency: a starved machine's slow answers must not fail the canary first.
    const { context, deployment, router } = setup({ metricsDelay: "0s", minP99Increase: "2s" }, 50);
    await runOnGreen(t, "v2", { version: "v2" });
    await router.setWeights({ blue: 50, green: 50 });
    // The step's window reaches a second back: past the last host count taken before green was healthy.
    await sleep(1_100);
    const started = Date.now() - 1_000;
    const answers = await load(`${t.world.listeners.production.url}/`, 40);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await sleep(1_100);
    const paused = await shift(deployment(started), context);
    expect({ phase: paused.phase, reason: paused.state.reason }).toEqual({
      phase: "paused",
      reason: expect.stringMatching(/; holding the canary's weight, since it has answered \d+ requests and failed no test/),
    });
    expect(paused.state.judge!.served).toBeGreaterThan(0);
    expect(await router.getWeights()).toEqual({ blue: 50, green: 50 });
  });
});
