// Broken versions whose tasks never answer 5xx themselves, deployed through the controller under
// real load on the local world: each must be rolled back by the judge, without a person. Their
// exposure (seconds the canary held weight, from its weights being verified until the serving
// colour's were) and the users' failed requests are printed, not asserted: this machine's speed is
// not the product's. Then healthy versions at low traffic, which must pass without pausing.
import { UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { ModifyLoadBalancerAttributesCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TERMINAL_PHASES, type Colour, type DeploymentView, type Phase } from "../../src/deploy/api.ts";
import { REPO, productionWeights, sampleConfig, startDeployWorld, type DeployWorld } from "../support/deploy-world.ts";
import { startLoad, type LoadStats } from "../support/load.ts";
import type { SampleBehaviour } from "../world/aws/index.ts";
import { clients, sampleVersion, waitSteady } from "../world/aws/test-helpers.ts";

const ENDED: Phase[] = [...TERMINAL_PHASES];
/** The setting the broken versions were first seen under: 50 requests a second, a look every 2 s, a 5% first step. */
const RATE = 50;
const LOOKS = { interval: "2s" };
const CANARY = { strategy: { type: "canary", steps: [{ weight: 5, bake: "10s" }, { weight: 100, bake: "2s" }] }, analysis: LOOKS };

interface Outcome {
  done: DeploymentView;
  stats: LoadStats;
  /** Seconds from the canary's first verified weights to the serving colour's verified 100%; null if it never held weight. */
  exposureS: number | null;
}

describe("broken canaries on the local world, under real load", { timeout: 120_000 }, () => {
  let env: DeployWorld;
  const report: string[] = [];
  beforeAll(async () => {
    env = await startDeployWorld();
  }, 60_000);
  afterAll(async () => {
    console.log(`broken canaries at ${RATE} req/s, 2 s looks:\n${report.join("\n")}`);
    await env?.close();
  });

  const idleOf = (live: Colour): Colour => (live === "blue" ? "green" : "blue");

  /** Deploys `behaviour` under `rate` requests a second; `whileWeighted` runs once the canary holds verified weight. */
  async function deploy(behaviour: SampleBehaviour, options: { rate: number; environment?: Record<string, unknown>; whileWeighted?: (idle: Colour) => Promise<void> }): Promise<Outcome> {
    const sha = await env.pushImage(behaviour);
    const load = startLoad(env.world.listeners.production.url, options.rate);
    const started = await env.controller.start({ repo: REPO, config: sampleConfig(env.aws, env.world, options.environment ?? CANARY), environment: "production", sha, requestedBy: "octocat", pullRequest: 7 });
    if (started.outcome !== "started") throw new Error(`deployment not started: ${JSON.stringify(started)}`);
    const { id } = started.deployment;
    const weighted = () => env.observer.changes.find((change) => change.id === id && change.liveColour !== null && (change.weights?.[idleOf(change.liveColour)] ?? 0) > 0);
    if (options.whileWeighted) {
      for (let attempt = 0; attempt < 1_200 && !weighted(); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 25));
      const first = weighted();
      if (!first) throw new Error(`deployment ${id} never gave the canary weight`);
      await options.whileWeighted(idleOf(first.liveColour!));
    }
    const done = await env.until(id, ENDED, 90_000);
    // Requests in flight at the restore still end (a hanging one at the idle timeout): count them too.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const stats = await load.stop();
    const { state } = (await env.deployments.get(id))!;
    const firstWeighted = weighted();
    const exposureS =
      firstWeighted && state.decidedAt !== null && state.timeToRestoreMs !== null ? (state.decidedAt + state.timeToRestoreMs - firstWeighted.updatedAt) / 1000 : null;
    return { done, stats, exposureS };
  }

  function record(name: string, { done, stats, exposureS }: Outcome): void {
    const looks = done.verdicts.map((verdict) => verdict.decision).join(", ");
    report.push(
      `  ${name}: ${done.phase} after ${done.verdicts.length} look(s) [${looks}]; ${exposureS === null ? "" : `exposure ${exposureS.toFixed(1)} s; `}` +
        `${stats.failed}/${stats.sent} requests failed ${JSON.stringify(stats.failures)}${stats.starved ? `, ${stats.starved} starved` : ""}; reason: ${done.reason}`,
    );
  }

  /** Rolled back by the judge's failing verdict (not paused, not a person's command), and all traffic back on the serving colour. */
  async function expectRolledBackByJudge(name: string, outcome: Outcome): Promise<void> {
    record(name, outcome);
    const { done, stats, exposureS } = outcome;
    const failing = done.verdicts.at(-1);
    expect({ phase: done.phase, decision: failing?.decision, reason: done.reason }).toEqual({ phase: "rolled-back", decision: "fail", reason: failing?.reason });
    expect(env.observer.phasesOf(done.id)).not.toContain("paused");
    expect(exposureS).not.toBeNull();
    const live = done.liveColour!;
    expect(await productionWeights(env.aws, env.world)).toEqual({ [live]: 100, [idleOf(live)]: 0 });
    // Users saw failures only from the canary's share: the serving version answered every request sent to it.
    expect(stats.byVersion.v1!.failed).toBe(0);
  }

  it("rolls back tasks that hang on real requests while /health passes (the balancer's 504s)", async () => {
    const { elb } = clients(env.aws);
    const idleTimeout = (seconds: string) =>
      elb.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: env.world.loadBalancerArn, Attributes: [{ Key: "idle_timeout.timeout_seconds", Value: seconds }] }));
    // The shortest idle timeout AWS allows: a hanging request becomes a 504 after 1 s, not 60.
    await idleTimeout("1");
    try {
      const outcome = await deploy({ version: "v2-hang", hang: true }, { rate: RATE });
      await expectRolledBackByJudge("hanging tasks", outcome);
      expect(outcome.stats.byVersion["v2-hang"]).toBeUndefined();
      expect(outcome.done.verdicts.length).toBeLessThanOrEqual(2);
    } finally {
      await idleTimeout("60");
    }
  });

  it("rolls back hanging tasks behind AWS's default 60 s idle timeout, where only the missing answers show", async () => {
    // The clients give up after 5 s; the balancer records a request only when it ends, here long after the verdict.
    const outcome = await deploy({ version: "v2-hang-60s", hang: true }, { rate: RATE });
    await expectRolledBackByJudge("hanging tasks, 60 s idle timeout", outcome);
    // Users' clients timed out (a timeout during a long event-loop stall here is counted apart, as starved).
    expect(Object.keys(outcome.stats.failures).filter((cause) => cause !== "timeout")).toEqual([]);
    expect(outcome.stats.failed + outcome.stats.starved).toBeGreaterThan(0);
    expect(outcome.done.verdicts.length).toBeLessThanOrEqual(2);
  });

  it("rolls back tasks that crash on their first real request and are replaced, crash after crash", async () => {
    const outcome = await deploy({ version: "v2-crash", onFirstRequest: "exit" }, { rate: RATE });
    await expectRolledBackByJudge("crash-looping tasks", outcome);
    expect(outcome.done.verdicts.length).toBeLessThanOrEqual(2);
  });

  it("rolls back tasks that refuse connections at the first look", async () => {
    const outcome = await deploy({ version: "v2-refuse", onFirstRequest: "refuse" }, { rate: RATE });
    await expectRolledBackByJudge("tasks refusing connections", outcome);
    expect(outcome.done.verdicts.map((verdict) => verdict.decision)).toEqual(["fail"]);
  });

  it("rolls back a canary whose target group is emptied while it holds weight (the balancer's 503s)", async () => {
    const { ecs } = clients(env.aws);
    // As an autoscaler or a person in the console would: the canary's service scaled to zero behind Gantry's back.
    const outcome = await deploy({ version: "v2-emptied" }, {
      rate: RATE,
      whileWeighted: async (idle) => {
        await ecs.send(new UpdateServiceCommand({ cluster: env.world.clusterArn, service: env.world.services[idle].name, desiredCount: 0 }));
      },
    });
    await expectRolledBackByJudge("empty target group", outcome);
    expect(outcome.done.verdicts.length).toBeLessThanOrEqual(2);
  });

  it("rolls back a canary that answers every request, but a second slower than the serving version", async () => {
    // Slower than the serving version's p99 by more than a tolerance of 500 ms (the local world's 2 s is for a busy machine's noise).
    const environment = { ...CANARY, analysis: { ...LOOKS, minP99Increase: "500ms" } };
    const outcome = await deploy({ version: "v2-slow", latencyMs: 1_000 }, { rate: RATE, environment });
    await expectRolledBackByJudge("slow canary", outcome);
    expect(outcome.done.reason).toMatch(/^canary is slow|^canary p99/);
    expect(outcome.stats.failed).toBe(0);
    expect(outcome.stats.byVersion["v2-slow"]!.total).toBeGreaterThan(0);
  });

  it("passes a healthy canary at low traffic without pausing", async () => {
    // 3 requests a second: a 50% step of 8 s sees about 12 canary requests, the floor a quiet service would set.
    const environment = { strategy: { type: "canary", steps: [{ weight: 50, bake: "8s" }, { weight: 100, bake: "2s" }] }, analysis: { ...LOOKS, minRequests: 10 } };
    const { done, stats } = await deploy({ version: "v2" }, { rate: 3, environment });
    record("healthy canary at 3 req/s", { done, stats, exposureS: null });

    expect({ phase: done.phase, reason: done.reason }).toEqual({ phase: "succeeded", reason: null });
    expect(env.observer.phasesOf(done.id)).not.toContain("paused");
    expect(done.verdicts.map((verdict) => verdict.decision)).not.toContain("fail");
    expect(stats.failed).toBe(0);
  });

  it("passes a healthy version at 5 req/s with the same random 1% error rate on both colours, without pausing", async () => {
    const { ecs } = clients(env.aws);
    const live: Colour = (await productionWeights(env.aws, env.world)).blue === 100 ? "blue" : "green";
    // The serving version fails 1% of requests at random too (put there by hand: this test is about the next deploy).
    const taskDefinition = await sampleVersion(env.aws, ecs, "noisy-v2", { version: "noisy-v2", errorRate: 0.01, seed: 11 });
    await ecs.send(new UpdateServiceCommand({ cluster: env.world.clusterArn, service: env.world.services[live].name, taskDefinition }));
    await waitSteady(ecs, env.world, env.world.services[live].name);
    const environment = { strategy: { type: "canary", steps: [{ weight: 50, bake: "8s" }, { weight: 100, bake: "2s" }] }, analysis: LOOKS };

    const { done, stats } = await deploy({ version: "noisy-v3", errorRate: 0.01, seed: 12 }, { rate: 5, environment });
    record("healthy version, 1% random errors on both colours, 5 req/s", { done, stats, exposureS: null });

    expect({ phase: done.phase, reason: done.reason }).toEqual({ phase: "succeeded", reason: null });
    expect(env.observer.phasesOf(done.id)).not.toContain("paused");
    expect(done.verdicts.map((verdict) => verdict.decision)).not.toContain("fail");
    expect(Object.keys(stats.failures).every((cause) => cause.startsWith("500 from noisy-v"))).toBe(true);
  });
});
