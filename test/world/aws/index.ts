// Public entry of the AWS emulator: ECS, ELBv2 (with real listener proxies), CloudWatch, CloudWatch
// Logs, ECR, CodeBuild and STS on one loopback endpoint for the real @aws-sdk clients.
import type { AddressInfo } from "node:net";
import type { SampleBehaviour } from "../sample-service/behaviour.ts";
import { CloudWatch } from "./cloudwatch.ts";
import { CodeBuild } from "./codebuild.ts";
import { Ecr, ecrHandlers } from "./ecr.ts";
import { Ecs, type CircuitBreaker, type DeploymentControllerType } from "./ecs.ts";
import { Elbv2 } from "./elbv2.ts";
import { Faults } from "./faults.ts";
import { CloudWatchLogs } from "./logs.ts";
import { pushSampleImage, seedSampleWorld, type SampleWorld } from "./sample-world.ts";
import { createEmulatorServer, type EmulatedCall } from "./server.ts";
import { AWS_RATE_LIMITS, RateLimits, type BucketRule } from "./rate-limits.ts";
import { OBSERVER_ACCESS_KEY_ID, Sts } from "./sts.ts";
import { timing, type Timing, type TimingOptions } from "./timing.ts";

export type { SampleBehaviour } from "../sample-service/behaviour.ts";
export type { FaultKind, FaultSpec, ActiveFault, Faults } from "./faults.ts";
export type { SampleWorld } from "./sample-world.ts";
export { SAMPLE_REPOSITORY_ID, sampleTaskDefinition } from "./sample-world.ts";
export type { TimingOptions } from "./timing.ts";
export type { CircuitBreaker, DeploymentControllerType } from "./ecs.ts";
export { AWS_RATE_LIMITS, type BucketRule } from "./rate-limits.ts";
export type { RoleSession, Sts } from "./sts.ts";

export interface AwsEmulatorOptions extends TimingOptions {
  /** Port of the AWS endpoint; default: any free port. */
  port?: number;
  /** API rate limits per account and region; default AWS's (AWS_RATE_LIMITS), `false` for none. */
  rateLimits?: readonly BucketRule[] | false;
  /** Real ms a CodeBuild build takes, start to end (default 200). */
  buildMs?: number;
}

export interface AwsEmulator {
  /** `http://127.0.0.1:PORT`, for the SDK clients' `endpoint`. */
  endpoint: string;
  region: string;
  accountId: string;
  /** When things happen here: AWS's timings at `timeScale`, or the fast world's. */
  timing: Timing;
  /** Real seconds per AWS second (e.g. 1/20); undefined in the fast world. */
  timeScale: number | undefined;
  /** Fault injection; also reachable over HTTP at `${endpoint}/__emulator/faults` (GET, POST a FaultSpec, DELETE [/id]). */
  faults: Faults;
  /** Every operation carried out, in order: tests count side effects such as ModifyListener calls. */
  calls: EmulatedCall[];
  /** The account's API rate limits and how many calls each bucket refused; undefined when off. */
  rateLimits: RateLimits | undefined;
  /** Roles, their trust policies and the sessions handed out; only the emulator's own key and sessions reach ECS, ELBv2, CloudWatch and ECR. */
  sts: Sts;
  /** CodeBuild's projects and builds: a test creates the operator's project, holds builds mid-way, and reads what was started. */
  codebuild: CodeBuild;
  /** ECR as the services see it: repositories and their tag settings. */
  ecr: Ecr;
  /** Configuration for a client that watches from outside (see OBSERVER_ACCESS_KEY_ID): reads only, no API tokens drawn, not in `calls`. */
  observerConfig(): { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** Configuration for any @aws-sdk client: endpoint, region and the emulator's own key (allowed everything, for tests). */
  clientConfig(): { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** Creates the sample cluster, services, target groups, ALB, listeners and role (see SampleWorld); another `name` seeds another such world. */
  seedSampleWorld(name?: string): Promise<SampleWorld>;
  /** Pushes a sample-app image whose tasks behave as told; returns its digest and a digest-pinned URI. */
  pushSampleImage(tag: string, behaviour: SampleBehaviour): Promise<{ digest: string; imageUri: string }>;
  /** Sets what CreateService would have: a service's deployment controller and circuit breaker. */
  configureService(cluster: string, service: string, settings: { deploymentController?: DeploymentControllerType; circuitBreaker?: CircuitBreaker }): void;
  /** Creates an empty cluster (as CreateCluster would), e.g. for one-off tasks such as CI shards; returns its ARN. */
  createCluster(name: string): string;
  /** Stops listeners, health checks and every task process. */
  close(): Promise<void>;
}

export async function startAwsEmulator(opts: AwsEmulatorOptions = {}): Promise<AwsEmulator> {
  const region = "us-east-1";
  const accountId = "123456789012";
  const faults = new Faults();
  const clock = timing(opts);
  const cloudwatch = new CloudWatch(clock.metrics);
  const ecr = new Ecr(accountId, region);
  const elb = new Elbv2(region, accountId, cloudwatch, clock);
  const logs = new CloudWatchLogs();
  const codebuild = new CodeBuild({ region, accountId, ecr, ...(opts.buildMs !== undefined ? { buildMs: opts.buildMs } : {}) });
  const ecs = new Ecs({ region, accountId, ecr, targetGroup: (arn) => elb.targetGroup(arn), logs });
  const calls: EmulatedCall[] = [];
  const credentials = { accessKeyId: "AKIDEMULATOR", secretAccessKey: "emulator-secret" };
  const sts = new Sts(accountId, credentials.accessKeyId);
  const rateLimits = opts.rateLimits === false ? undefined : new RateLimits(opts.rateLimits ?? AWS_RATE_LIMITS);
  const server = createEmulatorServer(
    {
      ecs: ecs.handlers(),
      ecr: ecrHandlers(ecr),
      codebuild: codebuild.handlers(),
      elbv2: elb.handlers(),
      cloudwatch: { GetMetricData: (i: Parameters<CloudWatch["getMetricData"]>[0]) => cloudwatch.getMetricData(i) },
      sts: { AssumeRole: (i: Parameters<Sts["assumeRole"]>[0], caller: string) => sts.assumeRole(i, caller) },
      logs: logs.handlers(),
    },
    faults,
    calls,
    (service, operation, headers) => sts.authorise(service, operation, headers),
    rateLimits,
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", resolve);
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const seeded = new Map<string, Promise<SampleWorld>>();
  return {
    endpoint,
    region,
    accountId,
    timing: clock,
    timeScale: opts.timeScale,
    faults,
    calls,
    rateLimits,
    sts,
    codebuild,
    ecr,
    clientConfig: () => ({ endpoint, region, credentials: { ...credentials } }),
    observerConfig: () => ({ endpoint, region, credentials: { accessKeyId: OBSERVER_ACCESS_KEY_ID, secretAccessKey: "observer-secret" } }),
    seedSampleWorld(name = "sample") {
      let world = seeded.get(name);
      if (!world) {
        world = seedSampleWorld(ecs, elb, ecr, sts, name);
        seeded.set(name, world);
      }
      return world;
    },
    configureService: (cluster, service, settings) => ecs.configureService(cluster, service, settings),
    createCluster: (name) => ecs.createCluster(name),
    pushSampleImage: async (tag, behaviour) => pushSampleImage(ecr, tag, behaviour),
    async close() {
      codebuild.hold(false);
      await codebuild.idle();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await ecs.close();
      await elb.close();
    },
  };
}
