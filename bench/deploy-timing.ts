// How long a full canary of the README's example takes on AWS's clock, and how much of that is
// Gantry's own. The real controller runs on the local world at a time scale (1/60 by default: an AWS
// minute lasts a second) with AWS's default health checks, deregistration delay, propagation and a
// 2-minute metric publication delay, and Gantry's polls scaled alike (2 s on AWS).
//
// Scaling back: what AWS imposes and what Gantry's scaled polls add is multiplied by 1/scale; Gantry's
// own work (its AWS calls, its ticks) took the time it took and is counted as measured, since it
// would not take 60 times longer on AWS. The waits AWS imposes are measured in the same run: the
// new colour's way to ready (task start, the health checks, ECS noticing them), the test listener's propagation,
// and for each judged step the wait for its first whole minute and the publication delay of its
// last. Gantry's overhead is its pacing (from the new colour being ready, targets healthy and ECS steady, to Gantry acting on it) and
// its work (the rest, once bakes and AWS's waits are taken off).
import { DescribeServicesCommand, ECSClient } from "@aws-sdk/client-ecs";
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { DeploymentView } from "../src/deploy/api.ts";
import { REPO, randomSha, sampleConfig, scaledDuration, startDeployWorld, type DeployWorld } from "../test/support/deploy-world.ts";
import { startLoad } from "../test/support/load.ts";
import { AWS_DEFAULTS } from "../test/world/aws/timing.ts";
import { recordBenchResults } from "./results.ts";

const SCALE = Number(process.env.BENCH_TIME_SCALE ?? 1 / 60);
/** Real requests a second through the production listener: at 1/60 an AWS minute sees this many, so the example's minRequests scales down with it. */
const REQUESTS_PER_SECOND = 150;
const MIN_REQUESTS = 20;
/** The README's example strategy (no approval or required environment: nobody waits on a person here), in AWS seconds: 5% for 5 min, 25% for 10 min, 100% with a 15 min bake (the watch). */
const STEPS = [
  { weight: 5, bakeSeconds: 300 },
  { weight: 25, bakeSeconds: 600 },
  { weight: 100, bakeSeconds: 900 },
];
const WATCH_SECONDS = 300;

/**
 * When green was first ready as Gantry defines it (epoch ms), watched from outside at a fine grain:
 * every target healthy and ECS calling the service steady on its new revision. ECS notices healthy
 * targets on its own schedule, so its lag is AWS's wait, not Gantry's pacing.
 */
function watchReady(env: DeployWorld, initialTaskDefinition: string | undefined): { readyAt(): number | null; stop(): void } {
  // As an observer: looking every 10 ms would otherwise spend the account's API tokens, and Gantry's calls would be throttled.
  const elbv2 = new ElasticLoadBalancingV2Client(env.aws.observerConfig());
  const ecs = new ECSClient(env.aws.observerConfig());
  let readyAt: number | null = null;
  let stopped = false;
  void (async () => {
    while (!stopped && readyAt === null) {
      const [targets, services] = await Promise.all([
        elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: env.world.targetGroups.green })),
        ecs.send(new DescribeServicesCommand({ cluster: env.world.clusterArn, services: [env.world.services.green.name] })),
      ]);
      const states = (targets.TargetHealthDescriptions ?? []).map((t) => t.TargetHealth?.State);
      const service = services.services?.[0];
      const deployments = service?.deployments ?? [];
      const steady =
        service?.taskDefinition !== initialTaskDefinition &&
        deployments.length === 1 &&
        (deployments[0]?.rolloutState ?? "COMPLETED") === "COMPLETED" &&
        service?.runningCount === service?.desiredCount &&
        (service?.desiredCount ?? 0) > 0;
      if (steady && states.length > 0 && states.every((state) => state === "healthy")) readyAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return { readyAt: () => readyAt, stop: () => void (stopped = true) };
}

function firstAt(changes: DeploymentView[], test: (view: DeploymentView) => boolean, what: string): number {
  const found = changes.find(test);
  if (!found) throw new Error(`the deployment never reported ${what}`);
  return found.updatedAt;
}

export async function benchDeployTiming(): Promise<void> {
  // Gantry's own pacing scaled as the world is: a 2 s poll on AWS.
  // The idle timeout, which no deployment waits for, stays a real minute so the load's pooled connections are not raced.
  const env = await startDeployWorld({ emulator: { timeScale: SCALE, idleTimeoutMs: 60_000 }, timing: { pollMs: 2_000 * SCALE } });
  try {
    const sha = randomSha();
    await env.aws.pushSampleImage(sha, { version: sha });
    const scaled = (seconds: number) => scaledDuration(env.aws, seconds);
    const config = sampleConfig(env.aws, env.world, {
      smoke: [{ path: "/healthz", expectStatus: 200, timeout: "5s", versionHeader: "x-sample-version" }],
      strategy: { type: "canary", steps: STEPS.map((step) => ({ weight: step.weight, bake: scaled(step.bakeSeconds) })) },
      postPromotionWatch: scaled(WATCH_SECONDS),
      keepWarm: scaled(1800),
      analysis: { minRequests: MIN_REQUESTS },
    });
    const metricsDelayMs = config.environments.production!.analysis.metricsDelay;
    const minuteMs = config.environments.production!.analysis.interval;

    const load = startLoad(env.world.listeners.production.url, REQUESTS_PER_SECOND);
    const before = await new ECSClient(env.aws.clientConfig()).send(new DescribeServicesCommand({ cluster: env.world.clusterArn, services: [env.world.services.green.name] }));
    const ready = watchReady(env, before.services?.[0]?.taskDefinition);
    const startedAt = Date.now();
    const started = await env.controller.start({ repo: REPO, config, environment: "production", sha, requestedBy: "bench", pullRequest: null });
    if (started.outcome !== "started") throw new Error(`deployment was not started: ${started.outcome === "refused" ? started.reason : "queued"}`);
    const { id } = started.deployment;
    const live = await env.until(id, ["cooling", "rolled-back", "failed", "paused"], 180_000);
    const liveAt = Date.now();
    ready.stop();
    const stats = await load.stop();
    if (live.phase !== "cooling") throw new Error(`the deployment ended ${live.phase}: ${live.reason}`);
    if (live.verdicts.some((verdict) => verdict.decision !== "pass" && verdict.decision !== "inconclusive")) throw new Error("a verdict failed");

    const changes = env.observer.changes.filter((change) => change.id === id);
    const warmingAt = firstAt(changes, (c) => c.phase === "warming", "warming");
    const smokeAt = firstAt(changes, (c) => c.phase === "smoke-testing", "smoke-testing");
    // The watcher looks every 10 ms with two calls; when Gantry acts first, its pacing was below that grain.
    const readyAt = Math.min(ready.readyAt() ?? smokeAt, smokeAt);
    // Each judged step starts when its weights are reported; its first window starts on the next minute.
    const stepStarts = [
      ...STEPS.slice(0, -1).map((step) => firstAt(changes, (c) => c.phase === "shifting" && c.weights?.green === step.weight, `${step.weight}%`)),
      firstAt(changes, (c) => c.phase === "watching", "watching"),
    ];
    const minuteWaits = stepStarts.map((at) => Math.ceil(at / minuteMs) * minuteMs - at);
    const bakesMs = [...STEPS.slice(0, -1).map((s) => s.bakeSeconds), Math.max(STEPS.at(-1)!.bakeSeconds, WATCH_SECONDS)].reduce((a, b) => a + b, 0) * 1000 * SCALE;
    const awsWaitsMs = {
      "task start, health checks to healthy, ECS steady": readyAt - warmingAt,
      "test listener propagation": Math.min(firstAt(changes, (c) => c.phase === "shifting", "shifting") - smokeAt, AWS_DEFAULTS.propagationSeconds * 1000 * SCALE),
      "first whole minute of each step": minuteWaits.reduce((a, b) => a + b, 0),
      "metric publication after each step": stepStarts.length * metricsDelayMs,
    };
    const totalMs = liveAt - startedAt;
    const pacingMs = Math.max(0, smokeAt - readyAt);
    const workMs = totalMs - bakesMs - pacingMs - Object.values(awsWaitsMs).reduce((a, b) => a + b, 0);
    const awsSeconds = (realMs: number) => realMs / SCALE / 1000;
    const overheadSeconds = awsSeconds(pacingMs) + workMs / 1000;
    const totalSeconds = awsSeconds(totalMs - workMs) + workMs / 1000;

    console.log(`\nFull canary of the README's example on AWS's clock (run at 1/${Math.round(1 / SCALE)}, scaled back to AWS seconds; ${stats.sent} requests, ${stats.failed} failed${stats.failed > 0 ? `: ${JSON.stringify(stats.failures)}` : ""})`);
    console.table([
      { part: "configured bakes (5m + 10m + 15m watch)", "AWS s": awsSeconds(bakesMs).toFixed(0) },
      ...Object.entries(awsWaitsMs).map(([part, ms]) => ({ part: `AWS: ${part}`, "AWS s": awsSeconds(ms).toFixed(1) })),
      { part: "Gantry's pacing (ready → acted on, its polls scaled)", "AWS s": awsSeconds(pacingMs).toFixed(1) },
      { part: "Gantry's work (the rest, as measured)", "AWS s": (workMs / 1000).toFixed(1) },
      { part: "total, deploy to live", "AWS s": totalSeconds.toFixed(1) },
    ]);
    console.log(`deploy.overheadSeconds ${overheadSeconds.toFixed(1)} (goal ≤ 5)`);
    recordBenchResults({ "deploy.totalSeconds": Number(totalSeconds.toFixed(1)), "deploy.overheadSeconds": Number(overheadSeconds.toFixed(1)) });
  } finally {
    await env.close();
  }
}
