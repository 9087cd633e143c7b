import { mkdtempSync } from "node:fs";
import { DescribeServicesCommand, ECSClient } from "@aws-sdk/client-ecs";
import { ElasticLoadBalancingV2Client, ModifyListenerCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { AlbRouter } from "../../src/traffic/alb-router.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { DeploymentObserver, DeploymentView, Phase, RepoRef, Weights } from "../../src/deploy/api.ts";
import { awsDeployTargets } from "../../src/deploy/aws-targets.ts";
import { Controller } from "../../src/deploy/controller.ts";
import { DeploymentStore } from "../../src/deploy/deployment-store.ts";
import { DeploymentRunner } from "../../src/deploy/runner.ts";
import type { ControllerTiming } from "../../src/deploy/tick-context.ts";
import { repoConfigSchema, type RepoConfig } from "../../src/config/repo-config.ts";
import { openStore, type Store } from "../../src/store/open-store.ts";
import { SAMPLE_REPOSITORY_ID, startAwsEmulator, type AwsEmulator, type AwsEmulatorOptions, type SampleBehaviour, type SampleWorld } from "../world/aws/index.ts";
import { silentLog } from "./probot.ts";

/** The repository the sample role trusts (ExternalId = its id). */
export const REPO: RepoRef = { owner: "acme", repo: "web", id: SAMPLE_REPOSITORY_ID, installationId: 2 };
/** Gantry's own identity in tests: the emulator lets it do nothing but assume a role. */
export const TEST_CREDENTIALS = { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" };

/** Fast timing for tests: the emulator's health checks and CloudWatch have 1 s resolution. */
export const FAST_TIMING: Partial<ControllerTiming> = { pollMs: 100, warmTimeoutMs: 30_000, idleMs: 500, maxFailures: 5 };

/** `.github/gantry.yml` for the emulator's sample world, as a person would write it, with second-scale bakes. */
export function sampleConfigInput(aws: AwsEmulator, world: SampleWorld, environment: Record<string, unknown> = {}) {
  return {
    build: { repository: world.repositoryName },
    environments: {
      production: {
        aws: { region: aws.region, roleArn: world.roleArn },
        ecs: { cluster: world.clusterArn, services: { blue: world.services.blue.name, green: world.services.green.name } },
        targetGroups: world.targetGroups,
        listeners: { production: world.listeners.production.arn, test: world.listeners.test.arn },
        smoke: [{ path: "/health", expectStatus: 200, timeout: "2s" }],
        strategy: { type: "canary", steps: [{ weight: 5, bake: "3s" }, { weight: 25, bake: "3s" }, { weight: 100, bake: "2s" }] },
        keepWarm: "1s",
        postPromotionWatch: "2s",
        ...environment,
        // Not about latency: a loaded CI box's p99 noise (a fresh process, a busy core) must not roll a healthy version back.
        analysis: { ...localAnalysisTiming(aws), minRequests: 20, maxExtensions: 3, minP99Increase: "2s", ...(environment.analysis as object | undefined) },
      },
    },
  };
}

/**
 * Canary steps for a version that fails 10% of its requests: a first step wide and long enough that
 * the canary serves about 90 requests there (45 on a starved CI box), so the four failures the judge
 * needs to roll back at 10% weight come before the step can pass. With 20 requests at 5%, a 10% failure
 * rate shows none or one 1 time in 3, and the version reaches the second step.
 */
export const FIRST_STEP_CATCHES_10_PERCENT = { type: "canary", steps: [{ weight: 10, bake: "6s" }, { weight: 25, bake: "3s" }, { weight: 100, bake: "2s" }] } as const;

/**
 * The judge's clock on the local world. At a time scale, a look per (scaled) CloudWatch minute that
 * waits out the emulator's publication delay, as `interval: 1m` and `metricsDelay` do on AWS; in the
 * fast world, where each second is complete at once, a look per second and no delay.
 */
export function localAnalysisTiming(aws: AwsEmulator): { interval: string; metricsDelay: string } {
  const { bucketMs, delayMs } = aws.timing.metrics;
  return aws.timeScale === undefined ? { interval: "1s", metricsDelay: "0s" } : { interval: `${bucketMs}ms`, metricsDelay: `${delayMs}ms` };
}

/** An AWS duration (e.g. "5m") as the local world lasts it at the emulator's time scale, for a config. */
export function scaledDuration(aws: AwsEmulator, awsSeconds: number): string {
  return `${Math.round(aws.timing.realMs(awsSeconds))}ms`;
}

export function sampleConfig(aws: AwsEmulator, world: SampleWorld, environment: Record<string, unknown> = {}): RepoConfig {
  return repoConfigSchema.parse(sampleConfigInput(aws, world, environment));
}

export function randomSha(): string {
  return randomBytes(20).toString("hex");
}

/** The production listener's weights, as the ALB reports them (retrying the emulator's injected throttling). */
export function productionWeights(aws: AwsEmulator, world: SampleWorld) {
  return productionWeightsReader(aws, world)();
}

/** Reads the production listener's weights with one client, for polling them. */
export function productionWeightsReader(aws: AwsEmulator, world: SampleWorld): () => Promise<Weights> {
  const elbv2 = new ElasticLoadBalancingV2Client({ ...aws.clientConfig(), maxAttempts: 10 });
  const router = new AlbRouter({ elbv2, arn: world.listeners.production.arn, targetGroups: world.targetGroups });
  return () => router.getWeights();
}

/** What someone does in the console: one ModifyListener on the production listener straight through the SDK, Gantry not involved. */
export async function splitByHand(aws: AwsEmulator, world: SampleWorld, weights: { blue: number; green: number }): Promise<void> {
  const elbv2 = new ElasticLoadBalancingV2Client({ ...aws.clientConfig(), maxAttempts: 10 });
  const groups = [
    { TargetGroupArn: world.targetGroups.blue, Weight: weights.blue },
    { TargetGroupArn: world.targetGroups.green, Weight: weights.green },
  ];
  await elbv2.send(new ModifyListenerCommand({ ListenerArn: world.listeners.production.arn, DefaultActions: [{ Type: "forward", ForwardConfig: { TargetGroups: groups } }] }));
}

/** The desired task count ECS reports for a colour's service. */
export async function desiredCount(aws: AwsEmulator, world: SampleWorld, colour: "blue" | "green"): Promise<number | undefined> {
  const ecs = new ECSClient({ ...aws.clientConfig(), maxAttempts: 10 });
  const out = await ecs.send(new DescribeServicesCommand({ cluster: world.clusterArn, services: [world.services[colour].name] }));
  return out.services?.[0]?.desiredCount;
}

/** Records every change the controller reports, in order. */
export class RecordingObserver implements DeploymentObserver {
  readonly changes: DeploymentView[] = [];
  async deploymentChanged(deployment: DeploymentView): Promise<void> {
    this.changes.push(deployment);
  }
  phasesOf(id: string): Phase[] {
    return this.changes.filter((change) => change.id === id).map((change) => change.phase);
  }
}

export interface DeployWorld {
  aws: AwsEmulator;
  world: SampleWorld;
  store: Store;
  deployments: DeploymentStore;
  controller: Controller;
  runner: DeploymentRunner;
  observer: RecordingObserver;
  pushImage(behaviour: SampleBehaviour): Promise<string>;
  /** Starts a deployment of `sha` to production by octocat, with the sample config and `environment` over it; throws if refused. */
  start(sha: string, environment?: Record<string, unknown>): Promise<DeploymentView>;
  until(id: string, phases: Phase[], timeoutMs?: number): Promise<DeploymentView>;
  close(): Promise<void>;
}

/** Blue's tasks start as processes and pass health checks a moment after seeding; wait for that. */
export async function untilServing(url: string): Promise<void> {
  let consecutive = 0;
  for (let attempt = 0; attempt < 400 && consecutive < 10; attempt += 1) {
    const ok = await fetch(url).then((response) => response.status === 200, () => false);
    consecutive = ok ? consecutive + 1 : 0;
    if (!ok) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (consecutive < 10) throw new Error(`${url} never served the sample app`);
}

export interface DeployWorldOptions {
  store?: Store;
  instanceId?: string;
  observe?: (store: Store) => DeploymentObserver;
  /** The emulator's clock, e.g. `{ timeScale: 1/20 }` for AWS's timings; default: the fast world. */
  emulator?: AwsEmulatorOptions;
  timing?: Partial<ControllerTiming>;
}

export async function startDeployWorld(options: DeployWorldOptions = {}): Promise<DeployWorld> {
  const aws = await startAwsEmulator(options.emulator ?? { healthCheckIntervalMs: 100 });
  const world = await aws.seedSampleWorld();
  await untilServing(world.listeners.production.url);
  const store = options.store ?? (await openStore({ dataDir: mkdtempSync(join(tmpdir(), "gantry-deploy-")) }));
  const deployments = new DeploymentStore(store);
  const observer = new RecordingObserver();
  // Recorded for the test; also passed on, e.g. to Gantry's outbox when GitHub is in the picture.
  const passOn = options.observe?.(store);
  const recordAndPassOn: DeploymentObserver = {
    async deploymentChanged(view) {
      await observer.deploymentChanged(view);
      await passOn?.deploymentChanged(view);
    },
  };
  const targetsFor = awsDeployTargets({ endpoint: aws.endpoint, credentials: TEST_CREDENTIALS });
  const runner = new DeploymentRunner({
    deployments,
    targetsFor,
    observer: recordAndPassOn,
    log: silentLog,
    instanceId: options.instanceId ?? "test-replica",
    leaseMs: 5_000,
    // At a time scale, the target groups report AWS's seconds while the world's clock runs faster.
    timing: { ...FAST_TIMING, ...(aws.timeScale === undefined ? {} : { awsClockScale: aws.timeScale }), ...options.timing },
  });
  const controller = new Controller({ deployments, observer: recordAndPassOn, wake: () => runner.wake(), targetsFor });
  runner.start();
  return {
    aws,
    world,
    store,
    deployments,
    controller,
    runner,
    observer,
    async pushImage(behaviour) {
      const sha = randomSha();
      await aws.pushSampleImage(sha, behaviour);
      return sha;
    },
    async start(sha, environment = {}) {
      const result = await controller.start({ repo: REPO, config: sampleConfig(aws, world, environment), environment: "production", sha, requestedBy: "octocat", pullRequest: 7 });
      if (result.outcome === "refused") throw new Error(result.reason);
      return result.deployment;
    },
    async until(id, phases, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const current = await deployments.get(id);
        if (current && phases.includes(current.phase)) return (await controller.history(current.repo)).find((view) => view.id === id)!;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const last = await deployments.get(id);
      throw new Error(`deployment ${id} did not reach ${phases.join("/")} (it is ${last?.phase}: ${last?.state.reason})`);
    },
    async close() {
      await runner.stop();
      await aws.close();
      if (!options.store) await store.close();
    },
  };
}

/** Polls until `condition` holds, every 50 ms, failing the test after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("condition not met in time");
}
