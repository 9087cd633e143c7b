import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TERMINAL_PHASES, type DeploymentView, type Phase } from "../../src/deploy/api.ts";
import { REPO, productionWeights, startDeployWorld, until, type DeployWorld } from "../support/deploy-world.ts";
import { startLoad } from "../support/load.ts";

const ENDED: Phase[] = [...TERMINAL_PHASES];
const ANALYSIS = { interval: "1s", minRequests: 20, minP99Increase: "2s" };
/** A canary that stays at 25% long enough for people to act on it. */
const LONG_CANARY = { strategy: { type: "canary", steps: [{ weight: 25, bake: "60s" }, { weight: 100, bake: "1s" }] }, analysis: ANALYSIS };
const SHORT_CANARY = { strategy: { type: "canary", steps: [{ weight: 25, bake: "1s" }, { weight: 100, bake: "1s" }] }, postPromotionWatch: "1s", keepWarm: "0s", analysis: ANALYSIS };

describe("people's commands address the deployment holding the environment, with real traffic", { timeout: 120_000 }, () => {
  let env: DeployWorld;
  beforeEach(async () => {
    env = await startDeployWorld();
  });
  afterEach(async () => {
    await env.close();
  });

  const request = { repo: REPO, environment: "production", by: "alice" };

  const start = async (version: string, environment: Record<string, unknown>): Promise<DeploymentView> => env.start(await env.pushImage({ version }), environment);

  /** A canary at 25% on green, and a second deployment queued behind it. */
  async function canaryWithOneQueued(): Promise<{ running: DeploymentView; queued: DeploymentView }> {
    const running = await start("v2", LONG_CANARY);
    const queued = await start("v3", SHORT_CANARY);
    expect(queued.phase).toBe("queued");
    await env.until(running.id, ["shifting"], 40_000);
    for (let attempt = 0; attempt < 400 && (await productionWeights(env.aws, env.world)).green !== 25; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(await productionWeights(env.aws, env.world)).toEqual({ blue: 75, green: 25 });
    return { running, queued };
  }

  // Regression: /rollback acted on the newest deployment, so it cancelled the queued one while the
  // canary it was meant for kept its 25% of the traffic.
  it("/rollback with a deployment queued rolls back the running canary and leaves the queued one to run after it", async () => {
    const load = startLoad(env.world.listeners.production.url, 100);
    const { running, queued } = await canaryWithOneQueued();
    // Users reach the canary before the rollback: a starved load generator may not have sent any yet.
    await until(() => load.stats.byVersion.v2 !== undefined, 30_000);

    const asked = await env.controller.rollback(request);
    if (!asked.ok) throw new Error(asked.reason);
    expect(asked.deployment.id).toBe(running.id);
    const rolledBack = await env.until(running.id, ENDED);
    expect({ phase: rolledBack.phase, reason: rolledBack.reason }).toEqual({ phase: "rolled-back", reason: "rollback requested by @alice" });
    const next = await env.until(queued.id, ENDED, 60_000);
    const stats = await load.stop();

    expect(next.phase).toBe("succeeded");
    expect(env.observer.phasesOf(queued.id)).not.toContain("aborted");
    expect(await productionWeights(env.aws, env.world)).toEqual({ blue: 0, green: 100 });
    expect(stats.byVersion.v2!.total).toBeGreaterThan(0);
    expect(stats.failed).toBe(0);
  });

  it("/abort cancels a queued deployment only when it is named by id, and otherwise stops the running one", async () => {
    const load = startLoad(env.world.listeners.production.url, 100);
    const { running, queued } = await canaryWithOneQueued();

    const cancelled = await env.controller.abort({ ...request, id: queued.id.slice(0, 8) });
    if (!cancelled.ok) throw new Error(cancelled.reason);
    expect(cancelled.deployment.id).toBe(queued.id);
    expect((await env.until(queued.id, ENDED)).phase).toBe("aborted");
    expect((await env.deployments.get(running.id))?.phase).toBe("shifting");
    expect(await productionWeights(env.aws, env.world)).toEqual({ blue: 75, green: 25 });

    const stopped = await env.controller.abort(request);
    if (!stopped.ok) throw new Error(stopped.reason);
    expect(stopped.deployment.id).toBe(running.id);
    const done = await env.until(running.id, ENDED);
    const stats = await load.stop();

    expect(done.phase).toBe("aborted");
    expect(await productionWeights(env.aws, env.world)).toEqual({ blue: 100, green: 0 });
    expect(stats.failed).toBe(0);
    // Nothing holds the environment now: a command says so instead of reaching for an ended deployment.
    expect(await env.controller.abort(request)).toEqual({ ok: false, reason: "no deployment is running in production" });
    expect(await env.controller.abort({ ...request, id: "0000ffff" })).toEqual({ ok: false, reason: "there is no deployment 0000ffff in acme/web" });
  });

  // Regression: a second /rollback while the first was restoring traffic queued a fast-path redeploy
  // of an older commit, with no canary and no approval.
  it("a second /rollback while one runs answers that a rollback is already running and asks for nothing more", async () => {
    const load = startLoad(env.world.listeners.production.url, 100);
    const { running, queued } = await canaryWithOneQueued();
    // Restoring traffic takes a while: the load balancer is slow to apply the change.
    env.aws.faults.add({ service: "elbv2", operation: "ModifyListener", kind: "latency", latencyMs: 1_500, count: 1 });

    const first = await env.controller.rollback(request);
    const second = await env.controller.rollback(request);
    // The third comes while the restoring ModifyListener is held at the load balancer (its one-call fault taken).
    await until(() => !env.aws.faults.list().some((fault) => fault.operation === "ModifyListener"), 30_000);
    const third = await env.controller.rollback(request);
    const done = await env.until(running.id, ENDED);
    const stats = await load.stop();

    expect(first).toMatchObject({ ok: true, deployment: { id: running.id } });
    expect(first).not.toHaveProperty("alreadyRunning");
    expect(second).toMatchObject({ ok: true, alreadyRunning: true, deployment: { id: running.id } });
    expect(third).toMatchObject({ ok: true, alreadyRunning: true, deployment: { id: running.id } });
    expect(done.phase).toBe("rolled-back");
    // No redeploy was created, and the queued deployment was not touched.
    expect((await env.controller.history(REPO)).map((deployment) => deployment.id).sort()).toEqual([running.id, queued.id].sort());
    expect(env.observer.phasesOf(queued.id)).not.toContain("aborted");
    expect(stats.failed).toBe(0);
  });
});
