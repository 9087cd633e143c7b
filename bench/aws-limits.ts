// AWS API budget of one deployment: a full canary of the README's example on the local world at
// AWS's default timings (time scale 1/20), with Gantry's production polling scaled alike. Counted
// from the emulator's call log and expressed per AWS minute; then how many such deployments fit
// at once in one account and region under the documented token buckets.
import { DEFAULT_TIMING } from "../src/deploy/runner.ts";
import { REPO, sampleConfig, startDeployWorld } from "../test/support/deploy-world.ts";
import { startLoad } from "../test/support/load.ts";
import { AWS_RATE_LIMITS, type BucketRule } from "../test/world/aws/index.ts";
import { recordBenchResults } from "./results.ts";

/** Real seconds per AWS second. */
const SCALE = 1 / 20;
const real = (awsMs: number) => Math.round(awsMs * SCALE);
const seconds = (awsSeconds: number) => `${awsSeconds * SCALE}s`;

export interface BucketUse {
  bucket: BucketRule;
  calls: number;
  /** Calls per AWS second of one deployment. */
  perSecond: number;
  /** Deployments at once before this bucket's refill is used up. */
  fits: number;
}

export async function benchAwsLimits(): Promise<void> {
  // The buckets are applied below in AWS time; the emulator's own would run in real time, so they are off here.
  const env = await startDeployWorld({
    emulator: { timeScale: SCALE, rateLimits: false },
    timing: { pollMs: real(DEFAULT_TIMING.pollMs), warmTimeoutMs: real(DEFAULT_TIMING.warmTimeoutMs), idleMs: real(DEFAULT_TIMING.idleMs) },
  });
  try {
    const sha = await env.pushImage({ version: "v2" });
    const config = sampleConfig(env.aws, env.world, {
      // The README's example at AWS's clock: 5% then 25% for 2 minutes each, judged per CloudWatch minute.
      strategy: { type: "canary", steps: [{ weight: 5, bake: seconds(120) }, { weight: 25, bake: seconds(120) }, { weight: 100, bake: seconds(60) }] },
      keepWarm: seconds(60),
      postPromotionWatch: seconds(120),
      analysis: { interval: seconds(60), metricsDelay: seconds(180), minRequests: 20, maxExtensions: 3, minP99Increase: "2s" },
    });
    const load = startLoad(env.world.listeners.production.url, 100);
    const from = env.aws.calls.length;
    const startedAt = performance.now();
    const started = await env.controller.start({ repo: REPO, config, environment: "production", sha, requestedBy: "bench", pullRequest: null });
    if (started.outcome !== "started") throw new Error(`deployment was not started: ${started.outcome === "refused" ? started.reason : "queued"}`);
    const done = await env.until(started.deployment.id, ["succeeded", "rolled-back", "failed", "paused"], 240_000);
    const awsSeconds = (performance.now() - startedAt) / 1000 / SCALE;
    await load.stop();
    const calls = env.aws.calls.slice(from);

    const uses: BucketUse[] = AWS_RATE_LIMITS.map((bucket) => {
      const n = calls.filter((c) => c.service === bucket.service && bucket.matches(c.operation)).length;
      const perSecond = n / awsSeconds;
      return { bucket, calls: n, perSecond, fits: perSecond === 0 ? Infinity : Math.floor(bucket.refillPerSecond / perSecond) };
    });
    const perMinute = (calls.length / awsSeconds) * 60;
    const maxConcurrent = Math.min(...uses.map((u) => u.fits));
    const byOperation = Object.entries(Object.groupBy(calls, (c) => `${c.service}.${c.operation}`)).map(([operation, list]) => ({ operation, calls: list?.length ?? 0 }));

    console.log(`\nAWS API budget: one canary ended ${done.phase} after ${(awsSeconds / 60).toFixed(1)} AWS minutes (time scale ${SCALE})`);
    console.table(byOperation.toSorted((a, b) => b.calls - a.calls));
    console.table(
      uses.map((u) => ({
        bucket: u.bucket.name,
        "refill/s": u.bucket.refillPerSecond,
        calls: u.calls,
        "per deployment/s": u.perSecond.toFixed(4),
        "deployments that fit": u.fits,
      })),
    );
    console.log(`aws.callsPerDeploymentMinute ${perMinute.toFixed(1)}; aws.maxConcurrentDeploymentsPerAccount ${maxConcurrent} (goal ≥ 200)`);
    recordBenchResults({ "aws.callsPerDeploymentMinute": Number(perMinute.toFixed(1)), "aws.maxConcurrentDeploymentsPerAccount": maxConcurrent });
  } finally {
    await env.close();
  }
}
