// Time from a rollback decision to verified weights, with the real controller on the AWS emulator:
// the deployment's own timeToRestoreMs, and from the controller.rollback() call to the listener
// reporting the old colour at 100%. Beside it, the bare ModifyListener + DescribeListeners round trip
// on the same emulator, so the controller's overhead (claim, lease, read-back) is visible.
import {
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { AlbRouter } from "../src/traffic/alb-router.ts";
import { REPO, sampleConfig, startDeployWorld, type DeployWorld } from "../test/support/deploy-world.ts";

const ROLLBACKS = Number(process.env.BENCH_ROLLBACKS ?? 20);
const BARE_ROUND_TRIPS = 100;

function summary(label: string, values: number[]) {
  const sorted = values.toSorted((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { measure: label, n: sorted.length, "median ms": at(0.5).toFixed(1), "p90 ms": at(0.9).toFixed(1), "max ms": at(1).toFixed(1) };
}

/** One deployment taken to its first canary step (5%, verified), then rolled back; both timings. */
async function rollbackOnce(env: DeployWorld, router: AlbRouter, sha: string): Promise<{ recorded: number; observed: number }> {
  // A long first bake: the rollback always lands while the canary step is in progress.
  const config = sampleConfig(env.aws, env.world, { strategy: { type: "canary", steps: [{ weight: 5, bake: "5m" }, { weight: 100, bake: "1s" }] } });
  const started = await env.controller.start({ repo: REPO, config, environment: "production", sha, requestedBy: "bench", pullRequest: null });
  if (started.outcome !== "started") throw new Error(`deployment was not started: ${started.outcome === "refused" ? started.reason : "queued"}`);
  const { id } = started.deployment;
  await env.until(id, ["shifting"]);
  while (!(await router.verifyWeights({ blue: 95, green: 5 }))) await new Promise((resolve) => setTimeout(resolve, 10));

  const decided = performance.now();
  const asked = await env.controller.rollback({ repo: REPO, environment: "production", by: "bench" });
  if (!asked.ok) throw new Error(asked.reason);
  // The emulator and the controller share this process: a 1 ms gap keeps the polling from starving them.
  while (!(await router.verifyWeights({ blue: 100, green: 0 }))) await new Promise((resolve) => setTimeout(resolve, 1));
  const observed = performance.now() - decided;
  const done = await env.until(id, ["rolled-back", "aborted", "failed", "succeeded"]);
  if (done.phase !== "rolled-back" || done.timeToRestoreMs === null) throw new Error(`rollback ended ${done.phase}: ${done.reason}`);
  return { recorded: done.timeToRestoreMs, observed };
}

/** ModifyListener to the given split, then DescribeListeners: what restoring costs with nothing around it. */
async function bareRoundTrip(elbv2: ElasticLoadBalancingV2Client, env: DeployWorld, blue: number): Promise<number> {
  const { arn } = env.world.listeners.production;
  const { blue: blueGroup, green: greenGroup } = env.world.targetGroups;
  const started = performance.now();
  await elbv2.send(
    new ModifyListenerCommand({
      ListenerArn: arn,
      DefaultActions: [{ Type: "forward", ForwardConfig: { TargetGroups: [{ TargetGroupArn: blueGroup, Weight: blue }, { TargetGroupArn: greenGroup, Weight: 100 - blue }] } }],
    }),
  );
  const out = await elbv2.send(new DescribeListenersCommand({ ListenerArns: [arn] }));
  const weight = out.Listeners?.[0]?.DefaultActions?.[0]?.ForwardConfig?.TargetGroups?.find((group) => group.TargetGroupArn === blueGroup)?.Weight;
  if (weight !== blue) throw new Error(`the listener reports blue ${weight}, not ${blue}`);
  return performance.now() - started;
}

export async function benchRollback(): Promise<void> {
  const env = await startDeployWorld();
  try {
    const sha = await env.pushImage({ version: "v2" });
    const elbv2 = new ElasticLoadBalancingV2Client(env.aws.clientConfig());
    const router = new AlbRouter({ elbv2, arn: env.world.listeners.production.arn, targetGroups: env.world.targetGroups });

    const recorded: number[] = [];
    const observed: number[] = [];
    const began = performance.now();
    for (let i = 0; i < ROLLBACKS; i += 1) {
      const sample = await rollbackOnce(env, router, sha);
      recorded.push(sample.recorded);
      observed.push(sample.observed);
    }
    const seconds = (performance.now() - began) / 1_000;

    const bare: number[] = [];
    // Alternate the split so every call is a real change; the last one leaves blue at 100%.
    for (let i = 0; i < BARE_ROUND_TRIPS; i += 1) bare.push(await bareRoundTrip(elbv2, env, i % 2 === 0 ? 95 : 100));

    console.log(`\nRollback to verified weights: ${ROLLBACKS} rollbacks at the first canary step (5%), AWS emulator on loopback, SQLite store (${seconds.toFixed(0)} s)`);
    console.table([
      summary("deployment's timeToRestoreMs (request recorded → weights verified)", recorded),
      summary("controller.rollback() call → listener reports blue 100%", observed),
      summary("baseline: bare ModifyListener + DescribeListeners", bare),
    ]);
  } finally {
    await env.close();
  }
}
