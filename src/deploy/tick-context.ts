import type { Judge } from "../analysis/judge.ts";
import type { ImageRequests } from "../images/image-builds.ts";
import type { Colour, Phase, Weights } from "./api.ts";
import type { Deployment, DeploymentState, PendingAction } from "./deployment-state.ts";
import type { Deadline } from "./deadline.ts";
import type { DeployTargets } from "./targets.ts";

export interface TickContext {
  targets: DeployTargets;
  now(): number;
  /**
   * Renews the lease and returns when this replica must have stopped acting on it; throws `LeaseLost`
   * when another replica has taken the deployment over. Call before every AWS change and pass the
   * deadline to it.
   */
  guard(): Promise<Deadline>;
  judge: Judge;
  /** Takes the environment for a queued deployment when it is free and no older one is waiting. */
  acquireLock(deployment: Deployment): Promise<boolean>;
  /** Whether a deployment created after this one has started in the same environment. */
  supersededBy(deployment: Deployment): Promise<boolean>;
  /**
   * For a cooling deployment, before it scales the colour it left down or puts traffic back on it:
   * false once a newer deployment has taken that colour over, which must then be left alone.
   */
  holdOldColour(deployment: Deployment): Promise<boolean>;
  /**
   * Before a deployment prepares its idle colour: takes over the colours older cooling deployments
   * left; false while one of them still acts on its own, which the caller waits out.
   */
  takeOverOldColours(deployment: Deployment): Promise<boolean>;
  timing: ControllerTiming;
  /** The image step, for a deployment whose commit had no image; absent where Gantry builds none. */
  images?: ImageRequests;
}

export interface ControllerTiming {
  /** How often to look again while waiting on AWS (steady state, healthy targets, a lock). */
  pollMs: number;
  /**
   * Longest wait for the idle colour's tasks to be placed and started, on top of what its target
   * group makes them wait: the health checks to healthy and, for tasks replaced, their draining.
   */
  warmTimeoutMs: number;
  /** How long an approval or a paused deployment waits between looks when nobody acts. */
  idleMs: number;
  /** Consecutive failed ticks before a deployment stops (traffic back on the serving colour). */
  maxFailures: number;
  /**
   * Real ms per ms of the durations AWS reports (health-check intervals): 1 against AWS; the local
   * world's time scale there, whose Describe calls report AWS's seconds while its clock runs faster.
   */
  awsClockScale: number;
}

/** What one tick decided: the next phase, the new state, and when to look again. */
export interface Transition {
  phase: Phase;
  state: DeploymentState;
  nextTickAt: number;
  consumed?: PendingAction | null;
  /** For an ended deployment: when to read its final weights back, or null once that is done. */
  finalCheckAt?: number | null;
}

export class LeaseLost extends Error {
  constructor(id: string) {
    super(`lease on deployment ${id} was lost; another replica continues it`);
  }
}

export function moveTo(deployment: Deployment, context: TickContext, phase: Phase, patch: Partial<DeploymentState> = {}, delayMs = 0): Transition {
  const now = context.now();
  const phaseStartedAt = phase === deployment.phase ? deployment.state.phaseStartedAt : now;
  return { phase, state: { ...deployment.state, phaseStartedAt, failures: 0, ...patch }, nextTickAt: now + delayMs };
}

export function stayIn(deployment: Deployment, context: TickContext, delayMs: number, patch: Partial<DeploymentState> = {}): Transition {
  return moveTo(deployment, context, deployment.phase, patch, delayMs);
}

/** Stays in the phase until `at` (a time, not a delay: the AWS calls made since the tick began do not push it back). */
export function stayUntil(deployment: Deployment, context: TickContext, at: number, patch: Partial<DeploymentState> = {}): Transition {
  const transition = stayIn(deployment, context, 0, patch);
  return { ...transition, nextTickAt: Math.max(transition.nextTickAt, at) };
}

/**
 * Ends the deployment by way of a rollback: traffic goes back (verified) to the serving colour first.
 * `decidedAt` is when a person asked, if one did: time to restore counts from then, not from the tick.
 */
export function rollBack(deployment: Deployment, context: TickContext, outcome: "rolled-back" | "aborted" | "failed", reason: string, decidedAt = context.now()): Transition {
  return moveTo(deployment, context, "rolling-back", { rollbackOutcome: outcome, reason, decidedAt });
}

export function liveAndIdle(state: DeploymentState): { live: Colour; idle: Colour } {
  if (!state.liveColour) throw new Error("the serving colour is not known yet");
  return { live: state.liveColour, idle: state.liveColour === "blue" ? "green" : "blue" };
}

export function weightsOn(colour: Colour, percent: number): Weights {
  return colour === "blue" ? { blue: percent, green: 100 - percent } : { green: percent, blue: 100 - percent };
}

/**
 * Sets weights only when the load balancer does not already report them, and checks its answer.
 * `urgent` (a rollback) renews the lease first and reads only once, in the change itself: one store
 * write more when nothing is to change, one AWS round trip less when something is.
 */
export async function ensureWeights(context: TickContext, desired: Weights, options: { urgent?: boolean } = {}): Promise<void> {
  const { router } = context.targets;
  if (!options.urgent && (await router.verifyWeights(desired))) return;
  const reported = await router.setWeights(desired, await context.guard());
  if (reported.blue !== desired.blue || reported.green !== desired.green) {
    throw new Error(`the load balancer does not report the weights just set (blue ${desired.blue}%, green ${desired.green}%)`);
  }
}
