// ServiceFleet on ECS: the blue and green services of one environment and their target groups.
// The only file in src/deploy that calls AWS.
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type Deployment,
  type ECSClient,
  type RegisterTaskDefinitionCommandInput,
  type TaskDefinition,
} from "@aws-sdk/client-ecs";
import {
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { boundBy } from "../aws/deadline-options.ts";
import type { Colour } from "./api.ts";
import type { Deadline } from "./deadline.ts";
import type { ServiceFleet, ServiceState, TargetGroupTiming, TargetHealthSummary } from "./fleet.ts";

/** AWS's defaults, for a field a target group does not report. */
const AWS_DEFAULT_TIMING: TargetGroupTiming = { healthCheckIntervalMs: 30_000, healthCheckTimeoutMs: 5_000, healthyThreshold: 5, deregistrationDelayMs: 300_000 };
/** Target-group settings change rarely; a warming deployment polls every few seconds. */
const TIMING_TTL_MS = 300_000;

export interface EcsFleetOptions {
  ecs: ECSClient;
  elbv2: ElasticLoadBalancingV2Client;
  cluster: string;
  services: Record<Colour, string>;
  targetGroups: Record<Colour, string>;
}

export class EcsFleet implements ServiceFleet {
  readonly #o: EcsFleetOptions;
  /** Task definition ARN → first container image; a revision never changes. */
  readonly #images = new Map<string, string>();
  readonly #timings = new Map<Colour, { at: number; timing: Promise<TargetGroupTiming> }>();

  constructor(options: EcsFleetOptions) {
    this.#o = options;
  }

  async describe(colour: Colour): Promise<ServiceState> {
    const name = this.#o.services[colour];
    const out = await this.#o.ecs.send(new DescribeServicesCommand({ cluster: this.#o.cluster, services: [name] }));
    const service = out.services?.[0];
    if (!service || service.status !== "ACTIVE" || !service.taskDefinition) {
      const why = out.failures?.[0]?.reason ?? service?.status ?? "not found";
      throw new Error(`ECS service ${name} (${colour}) in ${this.#o.cluster}: ${why}`);
    }
    const deployments = service.deployments ?? [];
    const rollout = deployments[0]?.rolloutState;
    const desiredCount = service.desiredCount ?? 0;
    const runningCount = service.runningCount ?? 0;
    return {
      taskDefinitionArn: service.taskDefinition,
      image: await this.#imageOf(service.taskDefinition),
      desiredCount,
      runningCount,
      // rolloutState is absent where the circuit breaker is off (and on older services).
      steady: deployments.length === 1 && (rollout === undefined || rollout === "COMPLETED") && runningCount === desiredCount,
      // An absent controller is ECS's default.
      deploymentController: service.deploymentController?.type ?? "ECS",
      failedRollout: failedRollout(deployments),
    };
  }

  async registerRevision(fromTaskDefinitionArn: string, image: string, deadline?: Deadline): Promise<string> {
    const out = await this.#o.ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: fromTaskDefinitionArn, include: ["TAGS"] }),
      boundBy(deadline, "reading the task definition to copy"),
    );
    if (!out.taskDefinition) throw new Error(`task definition ${fromTaskDefinitionArn} not found`);
    const input = registrable(out.taskDefinition, image);
    if (out.tags?.length) input.tags = out.tags;
    const registered = await this.#o.ecs.send(new RegisterTaskDefinitionCommand(input), boundBy(deadline, `RegisterTaskDefinition for ${input.family}`));
    const arn = registered.taskDefinition?.taskDefinitionArn;
    if (!arn) throw new Error(`RegisterTaskDefinition for ${input.family} returned no ARN`);
    this.#images.set(arn, image);
    return arn;
  }

  async update(colour: Colour, change: { taskDefinitionArn?: string; desiredCount?: number }, deadline?: Deadline): Promise<void> {
    if (change.taskDefinitionArn === undefined && change.desiredCount === undefined) return;
    await this.#o.ecs.send(
      new UpdateServiceCommand({
        cluster: this.#o.cluster,
        service: this.#o.services[colour],
        taskDefinition: change.taskDefinitionArn,
        desiredCount: change.desiredCount,
      }),
      boundBy(deadline, `UpdateService of ${this.#o.services[colour]}`),
    );
  }

  async targetHealth(colour: Colour): Promise<TargetHealthSummary> {
    const out = await this.#o.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: this.#o.targetGroups[colour] }));
    const all = out.TargetHealthDescriptions ?? [];
    // Draining targets are leaving and get no new requests: they are not part of what must be healthy.
    const targets = all.filter((t) => t.TargetHealth?.State !== "draining");
    return { healthy: targets.filter((t) => t.TargetHealth?.State === "healthy").length, total: targets.length, draining: all.length - targets.length };
  }

  targetGroupTiming(colour: Colour): Promise<TargetGroupTiming> {
    const cached = this.#timings.get(colour);
    if (cached && performance.now() - cached.at < TIMING_TTL_MS) return cached.timing;
    const timing = this.#readTargetGroupTiming(this.#o.targetGroups[colour]);
    this.#timings.set(colour, { at: performance.now(), timing });
    timing.catch(() => this.#timings.delete(colour));
    return timing;
  }

  async #readTargetGroupTiming(arn: string): Promise<TargetGroupTiming> {
    const [groups, attributes] = await Promise.all([
      this.#o.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] })),
      this.#o.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn })),
    ]);
    const group = groups.TargetGroups?.[0];
    if (!group) throw new Error(`target group ${arn} not found`);
    const delay = attributes.Attributes?.find((a) => a.Key === "deregistration_delay.timeout_seconds")?.Value;
    const ms = (seconds: number | undefined, fallback: number) => (seconds === undefined ? fallback : seconds * 1000);
    return {
      healthCheckIntervalMs: ms(group.HealthCheckIntervalSeconds, AWS_DEFAULT_TIMING.healthCheckIntervalMs),
      healthCheckTimeoutMs: ms(group.HealthCheckTimeoutSeconds, AWS_DEFAULT_TIMING.healthCheckTimeoutMs),
      healthyThreshold: group.HealthyThresholdCount ?? AWS_DEFAULT_TIMING.healthyThreshold,
      deregistrationDelayMs: delay === undefined ? AWS_DEFAULT_TIMING.deregistrationDelayMs : Number(delay) * 1000,
    };
  }

  async #imageOf(taskDefinitionArn: string): Promise<string> {
    let image = this.#images.get(taskDefinitionArn);
    if (image === undefined) {
      const out = await this.#o.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }));
      image = out.taskDefinition?.containerDefinitions?.[0]?.image;
      if (image === undefined) throw new Error(`task definition ${taskDefinitionArn} has no container image`);
      this.#images.set(taskDefinitionArn, image);
    }
    return image;
  }
}

/** The reason of a rollout the circuit breaker failed, among the service's current deployments. */
function failedRollout(deployments: Deployment[]): string | undefined {
  const failed = deployments.find((d) => d.rolloutState === "FAILED");
  return failed ? (failed.rolloutStateReason ?? "the deployment failed") : undefined;
}

/**
 * What RegisterTaskDefinition accepts of a described task definition, with the first container on
 * `image`. Read-only fields (ARN, revision, status, requiresAttributes, compatibilities,
 * registeredAt/By, deregisteredAt) are left out: AWS rejects or ignores them.
 */
function registrable(td: TaskDefinition, image: string): RegisterTaskDefinitionCommandInput {
  const [first, ...rest] = td.containerDefinitions ?? [];
  if (!first) throw new Error(`task definition ${td.taskDefinitionArn} has no containers`);
  return {
    family: td.family,
    containerDefinitions: [{ ...first, image }, ...rest],
    taskRoleArn: td.taskRoleArn,
    executionRoleArn: td.executionRoleArn,
    networkMode: td.networkMode,
    volumes: td.volumes,
    placementConstraints: td.placementConstraints,
    requiresCompatibilities: td.requiresCompatibilities,
    cpu: td.cpu,
    memory: td.memory,
    pidMode: td.pidMode,
    ipcMode: td.ipcMode,
    proxyConfiguration: td.proxyConfiguration,
    inferenceAccelerators: td.inferenceAccelerators,
    ephemeralStorage: td.ephemeralStorage,
    runtimePlatform: td.runtimePlatform,
    enableFaultInjection: td.enableFaultInjection,
  };
}
