// Time from a rollback decision to verified weights, with the real controller on the AWS emulator:
// the deployment's own timeToRestoreMs, and from the controller.rollback() call to the listener
// reporting the old colour at 100%; once without GitHub, once with Gantry's GitHub notifier (outbox,
// drain, Probot's Octokit with its throttling) writing every change to the GitHub emulator. Beside
// them, the bare ModifyListener + DescribeListeners round trip on the same emulator, so the
// controller's overhead (claim, lease, read-back) is visible.
import {
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { Probot } from "probot";
import { GitHubNotifier } from "../src/notify/github-notifier.ts";
import { commandSender } from "../src/notify/command-writes.ts";
import { DeploymentNotifications } from "../src/notify/notification-store.ts";
import { DeploymentOutbox } from "../src/notify/deployment-outbox.ts";
import { outboxDrain } from "../src/notify/outbox-drain.ts";
import { GitHubOutbox } from "../src/notify/outbox-store.ts";
import type { Store } from "../src/store/open-store.ts";
import { AlbRouter } from "../src/traffic/alb-router.ts";
import { REPO, randomSha, sampleConfig, startDeployWorld, type DeployWorld } from "../test/support/deploy-world.ts";
import { silentLog, TEST_APP_ID, TEST_PRIVATE_KEY } from "../test/support/probot.ts";
import { startGithubEmulator, type GithubEmulator } from "../test/world/github/emulator.ts";
import { recordBenchResults } from "./results.ts";

const ROLLBACKS = Number(process.env.BENCH_ROLLBACKS ?? 20);
const BARE_ROUND_TRIPS = 100;

function summary(label: string, values: number[]) {
  const sorted = values.toSorted((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { measure: label, n: sorted.length, "median ms": at(0.5).toFixed(1), "p90 ms": at(0.9).toFixed(1), "max ms": at(1).toFixed(1) };
}

/** One deployment taken to its first canary step (5%, verified), then rolled back; both timings. */
async function rollbackOnce(env: DeployWorld, router: AlbRouter, sha: string, pullRequest: number | null): Promise<{ recorded: number; observed: number }> {
  // A long first bake: the rollback always lands while the canary step is in progress.
  const config = sampleConfig(env.aws, env.world, { strategy: { type: "canary", steps: [{ weight: 5, bake: "5m" }, { weight: 100, bake: "1s" }] } });
  const started = await env.controller.start({ repo: REPO, config, environment: "production", sha, requestedBy: "bench", pullRequest });
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

const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.ceil(values.length / 2) - 1]!;

/** `ROLLBACKS` rollbacks in a row on one world; the two timings of each. */
async function rollbacks(env: DeployWorld, sha: string, pullRequest: number | null): Promise<{ recorded: number[]; observed: number[]; seconds: number }> {
  const router = new AlbRouter({ elbv2: new ElasticLoadBalancingV2Client(env.aws.clientConfig()), arn: env.world.listeners.production.arn, targetGroups: env.world.targetGroups });
  const recorded: number[] = [];
  const observed: number[] = [];
  const began = performance.now();
  for (let i = 0; i < ROLLBACKS; i += 1) {
    const sample = await rollbackOnce(env, router, sha, pullRequest);
    recorded.push(sample.recorded);
    observed.push(sample.observed);
  }
  return { recorded, observed, seconds: (performance.now() - began) / 1_000 };
}

/** Gantry's way out to GitHub, as `startGantry` wires it, pointed at the GitHub emulator. */
function githubOutboxFor(github: GithubEmulator) {
  // Probot's default Octokit (retries and throttling on): the costliest pacing for this figure; Gantry's
  // own outbox Octokit leaves pacing to its per-installation queue.
  const probot = new Probot({ appId: TEST_APP_ID, privateKey: TEST_PRIVATE_KEY, baseUrl: github.url, log: silentLog });
  let stopDrain: () => Promise<void> = async () => undefined;
  const observe = (store: Store) => {
    const notifier = new GitHubNotifier({ notifications: new DeploymentNotifications(store), octokitFor: (id) => probot.auth(id) });
    const outbox = new GitHubOutbox(store);
    const drain = outboxDrain({ outbox, sendDeployment: (changes) => notifier.apply(changes), sendCommand: commandSender((id) => probot.auth(id)), log: silentLog, instanceId: "bench" });
    drain.start();
    stopDrain = () => drain.stop();
    return new DeploymentOutbox(outbox, () => drain.wake());
  };
  return { observe, stop: () => stopDrain() };
}

export async function benchRollback(): Promise<void> {
  const withoutGitHub = await startDeployWorld();
  let baseline: Awaited<ReturnType<typeof rollbacks>>;
  const bare: number[] = [];
  try {
    const sha = await withoutGitHub.pushImage({ version: "v2" });
    baseline = await rollbacks(withoutGitHub, sha, null);
    const elbv2 = new ElasticLoadBalancingV2Client(withoutGitHub.aws.clientConfig());
    // Alternate the split so every call is a real change; the last one leaves blue at 100%.
    for (let i = 0; i < BARE_ROUND_TRIPS; i += 1) bare.push(await bareRoundTrip(elbv2, withoutGitHub, i % 2 === 0 ? 95 : 100));
  } finally {
    await withoutGitHub.close();
  }

  const github = await startGithubEmulator();
  const outbox = githubOutboxFor(github);
  const withGitHub = await startDeployWorld({ observe: outbox.observe });
  let measured: Awaited<ReturnType<typeof rollbacks>>;
  let githubWrites: number;
  try {
    const sha = randomSha();
    await withGitHub.aws.pushSampleImage(sha, { version: "v2" });
    const fullName = `${REPO.owner}/${REPO.repo}`;
    const repo = github.seedRepo({ owner: REPO.owner, name: REPO.repo, installationId: REPO.installationId });
    github.seedPull(fullName, { number: 1, user: "author", head: { ref: "feature", sha } });
    measured = await rollbacks(withGitHub, sha, 1);
    if (github.violations.length > 0) throw new Error(`GitHub emulator: ${github.violations.join("; ")}`);
    // The figure means something only if GitHub was written to while the rollbacks ran.
    if (repo.deployments.size === 0 || repo.comments.size === 0) throw new Error("the notifier wrote nothing to the GitHub emulator");
    githubWrites = github.answered.filter((request) => request.method !== "GET").length;
  } finally {
    await withGitHub.close();
    await outbox.stop();
    await github.close();
  }

  console.log(
    `\nRollback to verified weights: ${ROLLBACKS} rollbacks at the first canary step (5%), AWS emulator on loopback, SQLite store ` +
      `(${baseline.seconds.toFixed(0)} s without GitHub; ${measured.seconds.toFixed(0)} s with Gantry writing to the GitHub emulator, ${githubWrites} writes)`,
  );
  console.table([
    summary("timeToRestoreMs (request recorded → weights verified), GitHub notifier on", measured.recorded),
    summary("timeToRestoreMs, no GitHub", baseline.recorded),
    summary("controller.rollback() call → listener reports blue 100%, GitHub notifier on", measured.observed),
    summary("controller.rollback() call → listener reports blue 100%, no GitHub", baseline.observed),
    summary("baseline: bare ModifyListener + DescribeListeners", bare),
  ]);
  recordBenchResults({ "rollback.medianMsWithGitHub": Number(median(measured.recorded).toFixed(1)) });
}
