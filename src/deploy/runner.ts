import type { Logger } from "probot";
import { judge } from "../analysis/judge.ts";
import { isThrottling } from "../aws/throttling.ts";
import { publicErrorText } from "../notify/public-text.ts";
import { ClaimLoop } from "../store/claim-loop.ts";
import { TERMINAL_PHASES, type DeploymentObserver } from "./api.ts";
import { Deadline, DeadlinePassed } from "./deadline.ts";
import type { Deployment } from "./deployment-state.ts";
import type { DeploymentStore, Lease } from "./deployment-store.ts";
import { Heartbeat } from "./heartbeat.ts";
import { leaseTiming, type LeaseTiming } from "./lease-timing.ts";
import { finalCheck } from "./phases/final-check.ts";
import type { ImageRequests } from "../images/image-builds.ts";
import type { DeployTargetsFactory } from "./targets.ts";
import { tick } from "./tick.ts";
import { LeaseLost, rollBack, stayIn, type ControllerTiming, type TickContext, type Transition } from "./tick-context.ts";

export interface RunnerOptions {
  deployments: DeploymentStore;
  targetsFor: DeployTargetsFactory;
  observer: DeploymentObserver;
  log: Logger;
  /** Names this replica in leases. */
  instanceId: string;
  /** A claimed deployment is this replica's for this long unless renewed; a crashed replica's expire. */
  leaseMs?: number;
  /** How often this replica heartbeats; one silent for five of these is dead and its leases are taken. */
  heartbeatMs?: number;
  /** How long after a deployment ends its final weights are read back (default: one lease). */
  finalCheckAfterMs?: number;
  concurrency?: number;
  timing?: Partial<ControllerTiming>;
  /** The image step, for deployments whose commit had no image. */
  images?: ImageRequests;
}

interface Claimed {
  deployment: Deployment;
  lease: Lease;
  /** Taken into the slot kept for rollbacks. */
  reserved: boolean;
}

export const DEFAULT_TIMING: ControllerTiming = { pollMs: 2_000, warmTimeoutMs: 300_000, idleMs: 60_000, maxFailures: 5, awsClockScale: 1 };
/** After a throttled step: long enough for AWS's token buckets to refill (seconds), jittered up to twice that. */
const THROTTLED_BACKOFF_MS = 5_000;

/**
 * The controller loop of one replica: claim a due deployment, run one tick, persist, release.
 * Any replica can continue any deployment; the fence on every write keeps a stale one out, and the
 * deadline on every AWS write keeps it from acting once its lease can be taken.
 */
export class DeploymentRunner {
  readonly #options: RunnerOptions;
  readonly #timing: ControllerTiming;
  readonly #lease: LeaseTiming;
  readonly #heartbeat: Heartbeat;
  readonly #loop: ClaimLoop<Claimed>;
  readonly #slots: number;
  /** Ticks running in the regular slots; one more slot is kept for a rollback when they are all busy. */
  #inSlots = 0;

  constructor(options: RunnerOptions) {
    this.#options = options;
    this.#timing = { ...DEFAULT_TIMING, ...options.timing };
    this.#lease = leaseTiming(options);
    this.#heartbeat = new Heartbeat(options.deployments, options.instanceId, this.#lease, options.log);
    this.#slots = options.concurrency ?? 4;
    this.#loop = new ClaimLoop({
      name: "deploy",
      log: options.log,
      concurrency: this.#slots + 1,
      pollMs: Math.min(this.#timing.pollMs, 1_000),
      claim: () => this.#claim(),
      handle: async ({ deployment, lease, reserved }) => {
        try {
          await this.#run(deployment, lease);
        } finally {
          if (!reserved) this.#inSlots -= 1;
        }
      },
    });
  }

  start(): void {
    this.#heartbeat.start();
    this.#loop.start();
  }

  /** Finishes the ticks in hand, then hands this replica's deployments over to the others at once. */
  async stop(): Promise<void> {
    await this.#loop.stop();
    await this.letGo();
  }

  /**
   * Releases every lease this replica holds and records that it left. Called by `stop`, or at the
   * shutdown bound while a tick still runs: that tick's next AWS change then fails its own lease
   * check, and another replica continues the deployment at once.
   */
  async letGo(): Promise<void> {
    const released = await this.#options.deployments.releaseLeases(this.#options.instanceId).catch((err: unknown) => {
      this.#options.log.warn({ err }, "could not release this replica's leases; they run out on their own");
      return 0;
    });
    await this.#heartbeat.stop();
    if (released > 0) this.#options.log.info({ released }, "released the leases of deployments this replica held");
  }

  wake(): void {
    this.#loop.wake();
  }

  /**
   * Any due deployment while a regular slot is free; with all of them busy, only a rollback, into the
   * slot kept for it. A replica whose heartbeat is not being stored claims nothing: the others may
   * take its work any moment.
   */
  async #claim(): Promise<Claimed | undefined> {
    if (this.#heartbeat.remainingMs() <= 0) await this.#heartbeat.beat();
    if (this.#heartbeat.remainingMs() <= 0) return undefined;
    const reserved = this.#inSlots >= this.#slots;
    const claimed = await this.#options.deployments.claimDue(this.#options.instanceId, this.#lease, reserved);
    if (!claimed) return undefined;
    if (!reserved) this.#inSlots += 1;
    return { ...claimed, reserved };
  }

  async #run(deployment: Deployment, lease: Lease): Promise<void> {
    const { deployments, log, observer } = this.#options;
    const context = this.#context(deployment, lease);
    const checking = TERMINAL_PHASES.has(deployment.phase);
    let transition: Transition;
    try {
      transition = checking ? { ...(await finalCheck(deployment, context)), finalCheckAt: null } : await tick(deployment, context);
    } catch (error) {
      if (error instanceof LeaseLost) {
        log.warn({ deployment: deployment.id }, error.message);
        return;
      }
      transition = checking ? this.#afterFailedCheck(deployment, context, error as Error) : this.#afterFailure(deployment, context, error as Error);
    }
    if (checking && transition.state.finalCheck?.repaired) {
      log.warn({ deployment: deployment.id, found: transition.state.finalCheck.found, final: transition.state.weights }, "the ended deployment's weights had changed; set them again");
    }
    if (!checking && TERMINAL_PHASES.has(transition.phase)) transition = { ...transition, finalCheckAt: deployments.now + this.#lease.finalCheckAfterMs };
    if (!(await deployments.save(deployment.id, lease, transition, this.#lease.leaseMs))) {
      log.warn({ deployment: deployment.id }, "lease lost before saving; another replica continues");
      return;
    }
    if (transition.phase !== deployment.phase) {
      log.info({ deployment: deployment.id, environment: deployment.environment, from: deployment.phase, to: transition.phase }, "deployment moved");
    }
    const saved = await deployments.view(deployment.id);
    if (saved) await observer.deploymentChanged(saved).catch((err: unknown) => log.error({ err, deployment: deployment.id }, "could not report the deployment's change"));
  }

  /** An ended deployment's read-back is retried like a step, then given up (it cannot roll anything back). */
  #afterFailedCheck(deployment: Deployment, context: TickContext, error: Error): Transition {
    const failures = deployment.state.failures + 1;
    this.#options.log.error({ deployment: deployment.id, err: error, failures }, "could not read back the ended deployment's weights");
    const transition = stayIn(deployment, context, Math.min(this.#timing.pollMs * 2 ** (failures - 1), 30_000));
    return { ...transition, state: { ...transition.state, failures }, finalCheckAt: failures >= this.#timing.maxFailures ? null : transition.nextTickAt };
  }

  /** Backs off and retries; a step that keeps failing stops the deployment with traffic on the serving colour. */
  #afterFailure(deployment: Deployment, context: TickContext, error: Error): Transition {
    // The account's rate limit, still reached after the SDK's own retries: wait for the bucket to refill.
    // Not a failure of the deployment, so it never counts toward stopping it.
    if (isThrottling(error)) {
      this.#options.log.warn({ deployment: deployment.id, err: error }, "AWS throttled this step; retrying after a back-off");
      return stayIn(deployment, context, THROTTLED_BACKOFF_MS * (1 + Math.random()));
    }
    const failures = deployment.state.failures + 1;
    // The reason is shown on GitHub and in Slack; the full error goes to the server log below.
    const reason = `${deployment.phase} failed ${failures} time(s): ${publicErrorText(error)}`;
    this.#options.log.warn({ deployment: deployment.id, err: error, failures }, "deployment step failed");
    if (failures >= this.#timing.maxFailures && deployment.phase !== "rolling-back") {
      return rollBack(deployment, context, "failed", `stopped: ${reason}`);
    }
    const backoff = Math.min(this.#timing.pollMs * 2 ** (failures - 1), 30_000);
    const transition = stayIn(deployment, context, backoff, { reason });
    return { ...transition, state: { ...transition.state, failures } };
  }

  #context(deployment: Deployment, lease: Lease): TickContext {
    const { deployments, targetsFor } = this.#options;
    return {
      // Built on first use, inside the tick, so a failure here is retried and counted like any other.
      get targets() {
        return targetsFor(deployment.repo, deployment.environment, deployment.state.environment);
      },
      now: () => deployments.now,
      timing: this.#timing,
      judge,
      guard: async () => {
        // One reading of each clock: the lease runs from the wall-clock one, this replica's deadline
        // (shorter by a third) from the monotonic one, and no later than its heartbeat allows.
        const deadline = new Deadline(Math.min(this.#lease.renewDeadlineMs, this.#heartbeat.remainingMs()));
        if (!(await deployments.renew(deployment.id, lease, this.#lease.leaseMs, deployments.now))) throw new LeaseLost(deployment.id);
        if (deadline.remainingMs() <= 0) throw new DeadlinePassed("the next AWS change");
        return deadline;
      },
      acquireLock: async (queued) => {
        const waiting = await deployments.list(queued.repo, { environment: queued.environment, phases: ["queued"], limit: 100 });
        const oldest = waiting.at(-1);
        if (oldest && oldest.id !== queued.id) return false;
        return (await deployments.acquireDeployLock(queued)).ok;
      },
      supersededBy: (current) => deployments.takenOver(current),
      holdOldColour: (cooling) => deployments.holdOldColour(cooling),
      takeOverOldColours: (preparing) => deployments.takeOverOldColours(preparing),
      ...(this.#options.images ? { images: this.#options.images } : {}),
    };
  }
}
