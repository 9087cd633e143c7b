// Gantry on AWS's clock: the local world at time scale 1/60 (one AWS minute lasts one second), so a
// target needs five passing checks 0.5 s apart, a leaving one drains for 5 s, a listener change
// reaches requests after a while, and CloudWatch publishes each one-second "minute" 2 s after it
// ends. The order and proportions of events are AWS's; only lower bounds on time are asserted.
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, ModifyListenerCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudWatchMetrics } from "../../src/analysis/cloudwatch-metrics.ts";
import type { DeploymentView } from "../../src/deploy/api.ts";
import { renderStatusComment } from "../../src/notify/status-comment.ts";
import { REPO, desiredCount, productionWeights, randomSha, sampleConfig, scaledDuration, startDeployWorld, type DeployWorld } from "../support/deploy-world.ts";
import { startLoad, type LoadStats } from "../support/load.ts";
import type { SampleBehaviour } from "../world/aws/index.ts";
import { AWS_DEFAULTS } from "../world/aws/timing.ts";

const SCALE = 1 / 60;
const MINUTE_MS = 60_000 * SCALE;
const PUBLICATION_MS = AWS_DEFAULTS.metricPublicationDelaySeconds * 1000 * SCALE;
/** The smoke check asks for the version the task states, as a service built from a commit does. */
const VERSION_CHECK = { path: "/", expectStatus: 200, timeout: "2s", versionHeader: "x-sample-version", versionWait: "5s" };

async function pushRelease(env: DeployWorld, behaviour: Omit<SampleBehaviour, "version">): Promise<string> {
  const sha = randomSha();
  await env.aws.pushSampleImage(sha, { ...behaviour, version: sha });
  return sha;
}

async function deploy(env: DeployWorld, sha: string, environment: Record<string, unknown>): Promise<DeploymentView> {
  const config = sampleConfig(env.aws, env.world, environment);
  const started = await env.controller.start({ repo: REPO, config, environment: "production", sha, requestedBy: "octocat", pullRequest: 7 });
  if (started.outcome === "refused") throw new Error(started.reason);
  return env.until(started.deployment.id, ["succeeded", "rolled-back", "failed"], 90_000);
}

/** When the deployment first reported a phase (epoch ms). */
function enteredAt(env: DeployWorld, id: string, phase: string): number {
  const change = env.observer.changes.find((c) => c.id === id && c.phase === phase);
  if (!change) throw new Error(`deployment ${id} never reported ${phase}`);
  return change.updatedAt;
}

describe("a full canary at time scale 1/60, with AWS's default health checks, draining and late minute metrics", () => {
  let env: DeployWorld;
  let done: DeploymentView;
  let stats: LoadStats;
  let sha: string;

  beforeAll(async () => {
    // The idle timeout stays a real minute: scaled to 1 s, a busy machine's timer jitter would have the
    // balancer close a client's pooled connection as the client reuses it, a race a real client at 60 s rarely meets.
    env = await startDeployWorld({ emulator: { timeScale: SCALE, idleTimeoutMs: 60_000 }, timing: { pollMs: 50 } });
    sha = await pushRelease(env, {});
    const load = startLoad(env.world.listeners.production.url, 150);
    // The README's strategy shape in AWS minutes: 5% for 3 min, 25% for 3 min, then a 3 min watch.
    const minutes = (n: number) => scaledDuration(env.aws, n * 60);
    done = await deploy(env, sha, {
      smoke: [VERSION_CHECK],
      strategy: { type: "canary", steps: [{ weight: 5, bake: minutes(3) }, { weight: 25, bake: minutes(3) }, { weight: 100, bake: minutes(3) }] },
      postPromotionWatch: minutes(3),
      keepWarm: minutes(0.5),
    });
    stats = await load.stop();
  }, 120_000);
  afterAll(() => env?.close());

  it("succeeds with no failed request while targets warm through five checks and the old colour drains", async () => {
    expect({ phase: done.phase, reason: done.reason }).toEqual({ phase: "succeeded", reason: null });
    expect(stats.failures).toEqual({});
    expect(stats.byVersion[sha]!.total).toBeGreaterThan(0);
    expect(await productionWeights(env.aws, env.world)).toEqual({ blue: 0, green: 100 });
    // Five passing checks 30 AWS seconds apart before the new colour's targets are healthy (the first may come at once).
    const warming = enteredAt(env, done.id, "smoke-testing") - enteredAt(env, done.id, "warming");
    expect(warming).toBeGreaterThanOrEqual((AWS_DEFAULTS.healthyThresholdCount - 1) * AWS_DEFAULTS.healthCheckIntervalSeconds * 1000 * SCALE);
    // Scaled down, the old colour's targets stay draining for the deregistration delay (5 s here), as on AWS.
    expect(await desiredCount(env.aws, env.world, "blue")).toBe(0);
    const elbv2 = new ElasticLoadBalancingV2Client({ ...env.aws.clientConfig(), maxAttempts: 10 });
    const blue = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: env.world.targetGroups.blue }));
    expect(blue.TargetHealthDescriptions?.map((t) => t.TargetHealth?.State)).toEqual(["draining", "draining"]);
  });

  it("judges whole CloudWatch minutes, each read only once the emulator has published it", () => {
    expect(done.verdicts.length).toBeGreaterThanOrEqual(3);
    for (const verdict of done.verdicts) {
      expect(verdict.windowStart % MINUTE_MS).toBe(0);
      expect(verdict.windowEnd % MINUTE_MS).toBe(0);
      expect(verdict.windowEnd).toBeGreaterThan(verdict.windowStart);
      expect(verdict.readAt! - verdict.windowEnd).toBeGreaterThanOrEqual(PUBLICATION_MS);
    }
    // Each step's windows follow one another without gap or overlap.
    for (const [previous, next] of done.verdicts.slice(0, -1).map((v, i) => [v, done.verdicts[i + 1]!] as const)) {
      if (previous.step === next.step && previous.windowEnd >= previous.windowStart) expect(next.windowStart).toBeGreaterThanOrEqual(previous.windowEnd);
    }
  });

  it("reaches a verdict in the post-promotion watch, against a baseline window of the old colour that has data", () => {
    const promotedAt = enteredAt(env, done.id, "watching");
    const watched = done.verdicts.filter((verdict) => verdict.windowStart >= promotedAt - MINUTE_MS && verdict.step === 2);
    expect(watched.length).toBeGreaterThan(0);
    expect(watched.at(-1)!.decision).toBe("pass");
    expect(watched.at(-1)!.canary.requests).toBeGreaterThan(0);
    expect(watched.at(-1)!.control.requests).toBeGreaterThan(0);
  });

  it("shows in the PR comment each step's window and when its data was read", () => {
    const comment = renderStatusComment(done, { checkRun: null, dashboard: null });
    const first = done.verdicts[0]!;
    const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);
    expect(comment).toContain(`| 1 | ${time(first.windowStart)}–${time(first.windowEnd)} | ${time(first.readAt!)} (+${Math.round((first.readAt! - first.windowEnd) / 1000)} s) |`);
  });
});

describe("a smoke test at time scale 1/60 while the test listener's change propagates", () => {
  let env: DeployWorld;
  beforeAll(async () => {
    // Propagation slower than we assume (30 AWS seconds, not 5), so the first smoke requests surely meet the old colour.
    env = await startDeployWorld({ emulator: { timeScale: SCALE, propagationDelayMs: 500 }, timing: { pollMs: 50 } });
  }, 60_000);
  afterAll(() => env?.close());

  it("fails a broken new colour although the old one answered the first requests with 200", async () => {
    // The test listener serves blue, the live colour, as after a deployment that made blue live.
    const elbv2 = new ElasticLoadBalancingV2Client({ ...env.aws.clientConfig(), maxAttempts: 10 });
    await elbv2.send(
      new ModifyListenerCommand({ ListenerArn: env.world.listeners.test.arn, DefaultActions: [{ Type: "forward", TargetGroupArn: env.world.targetGroups.blue }] }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // Passes its health checks, answers every real request with a 500.
    const sha = await pushRelease(env, { errorRate: 1 });
    const done = await deploy(env, sha, { smoke: [VERSION_CHECK] });

    expect(done.phase).toBe("failed");
    expect(done.reason).toBe("smoke check GET / answered 500, expected 200");
    expect(done.verdicts).toEqual([]);
    expect(await productionWeights(env.aws, env.world)).toEqual({ blue: 100, green: 0 });

    // The old colour did answer smoke requests during propagation: a check that ignored the version would have passed.
    const smokeStart = enteredAt(env, done.id, "smoke-testing");
    const smokeEnd = enteredAt(env, done.id, "rolling-back");
    await new Promise((resolve) => setTimeout(resolve, Math.ceil(smokeEnd / MINUTE_MS) * MINUTE_MS + PUBLICATION_MS + 200 - Date.now()));
    const metrics = new CloudWatchMetrics({ cloudwatch: new CloudWatchClient(env.aws.clientConfig()), elbv2 });
    const window = { start: Math.floor(smokeStart / MINUTE_MS) * MINUTE_MS, end: Math.ceil(smokeEnd / MINUTE_MS) * MINUTE_MS };
    const old = await metrics.sample(env.world.targetGroups.blue, window);
    expect(old.responses).toBeGreaterThan(0);
    expect(old.target5xx).toBe(0);
    const broken = await metrics.sample(env.world.targetGroups.green, window);
    expect(broken.target5xx).toBeGreaterThan(0);
  }, 90_000);

  it("fails, after its wait, a new colour that never states the commit being deployed", async () => {
    const sha = randomSha();
    // Built without the commit passed in: the service states something else.
    await env.aws.pushSampleImage(sha, { version: "unknown" });
    const done = await deploy(env, sha, { smoke: [{ ...VERSION_CHECK, versionWait: "2s" }] });
    expect(done.phase).toBe("failed");
    expect(done.reason).toMatch(new RegExp(`^smoke check GET / answered 200 with version unknown, not ${sha.slice(0, 12)} after [23]s: the test listener never answered from the new version$`));
    expect(await productionWeights(env.aws, env.world)).toEqual({ blue: 100, green: 0 });
  }, 90_000);
});
