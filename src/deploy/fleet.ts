import type { Colour } from "./api.ts";
import type { Deadline } from "./deadline.ts";

export interface ServiceState {
  taskDefinitionArn: string;
  /** The first container's image, e.g. `123.dkr.ecr.us-east-1.amazonaws.com/web@sha256:…`. */
  image: string;
  desiredCount: number;
  runningCount: number;
  /** One deployment, completed, running = desired: ECS's "services stable". */
  steady: boolean;
  /** ECS, CODE_DEPLOY or EXTERNAL: Gantry can drive only ECS (the others refuse a new task definition). */
  deploymentController: string;
  /** Set when ECS's deployment circuit breaker failed the latest rollout: its reason. */
  failedRollout?: string;
}

export interface TargetHealthSummary {
  healthy: number;
  /** Targets not draining. */
  total: number;
  /** Targets leaving the group. */
  draining: number;
}

/** What AWS makes a colour's targets wait for, as its target group is set (ms of AWS's clock). */
export interface TargetGroupTiming {
  healthCheckIntervalMs: number;
  healthCheckTimeoutMs: number;
  /** Consecutive passing checks before a new target is healthy. */
  healthyThreshold: number;
  /** How long a leaving target stays `draining` before ECS may stop its task. */
  deregistrationDelayMs: number;
}

/** The blue and green ECS services of one environment, and the health of their target groups. */
export interface ServiceFleet {
  describe(colour: Colour): Promise<ServiceState>;
  /** Registers a revision of `fromTaskDefinitionArn` whose first container runs `image`; returns its ARN. Never sent after `deadline`. */
  registerRevision(fromTaskDefinitionArn: string, image: string, deadline?: Deadline): Promise<string>;
  /** Never sent after `deadline`. */
  update(colour: Colour, change: { taskDefinitionArn?: string; desiredCount?: number }, deadline?: Deadline): Promise<void>;
  targetHealth(colour: Colour): Promise<TargetHealthSummary>;
  /** The colour's target group's health checks and deregistration delay. */
  targetGroupTiming(colour: Colour): Promise<TargetGroupTiming>;
}
