import type { Logger } from "probot";
import { judge } from "../analysis/judge.ts";
import { publicErrorText } from "../notify/public-text.ts";
import { ClaimLoop } from "../store/claim-loop.ts";
import type { DeploymentObserver } from "./api.ts";
import { toView, type Deployment } from "./deployment-state.ts";
import type { DeploymentStore, Lease } from "./deployment-store.ts";
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
  concurrency?: number;
  timing?: Partial<ControllerTiming>;
}

export const DEFAULT_TIMING: ControllerTiming = { pollMs: 2_000, warmTimeoutMs: 600_000, idleMs: 60_000, maxFailures: 5 };

/**
 * The controller loop of one replica: claim a due deployment, run one tick, persist, release.
 * Any replica can continue any deployment; the fence on every write keeps a stale one out.
 */
export class DeploymentRunner {
  readonly #options: RunnerOptions;
  readonly #timing: ControllerTiming;
  readonly #leaseMs: number;
  readonly #loop: ClaimLoop<{ deployment: Deployment; lease: Lease }>;

  constructor(options: RunnerOptions) {
    this.#options = options;
    this.#timing = { ...DEFAULT_TIMING, ...options.timing };
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#loop = new ClaimLoop({
      name: "deploy",
      log: options.log,
      concurrency: options.concurrency ?? 4,
      pollMs: Math.min(this.#timing.pollMs, 1_000),
      claim: () => options.deployments.claimDue(options.instanceId, this.#leaseMs),
      handle: ({ deployment, lease }) => this.#run(deployment, lease),
    });
  }

  start(): void {
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  wake(): void {
    this.#loop.wake();
  }

  async #run(deployment: Deployment, lease: Lease): Promise<void> {
    const { deployments, log, observer } = this.#options;
    const context = this.#context(deployment, lease);
    let transition: Transition;
    try {
      transition = await tick(deployment, context);
    } catch (error) {
      if (error instanceof LeaseLost) {
        log.warn({ deployment: deployment.id }, error.message);
        return;
      }
      transition = this.#afterFailure(deployment, context, error as Error);
    }
    if (!(await deployments.save(deployment.id, lease, transition, this.#leaseMs))) {
      log.warn({ deployment: deployment.id }, "lease lost before saving; another replica continues");
      return;
    }
    if (transition.phase !== deployment.phase) {
      log.info({ deployment: deployment.id, environment: deployment.environment, from: deployment.phase, to: transition.phase }, "deployment moved");
    }
    const saved = await deployments.get(deployment.id);
    if (saved) await observer.deploymentChanged(toView(saved)).catch((err: unknown) => log.error({ err, deployment: deployment.id }, "could not report the deployment's change"));
  }

  /** Backs off and retries; a step that keeps failing stops the deployment with traffic on the serving colour. */
  #afterFailure(deployment: Deployment, context: TickContext, error: Error): Transition {
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
        return targetsFor(deployment.repo, deployment.state.environment);
      },
      now: () => deployments.now,
      timing: this.#timing,
      judge,
      guard: async () => {
        if (!(await deployments.renew(deployment.id, lease, this.#leaseMs))) throw new LeaseLost(deployment.id);
      },
      acquireLock: async (queued) => {
        const waiting = await deployments.list(queued.repo, { environment: queued.environment, phases: ["queued"], limit: 100 });
        const oldest = waiting.at(-1);
        if (oldest && oldest.id !== queued.id) return false;
        return (await deployments.acquireDeployLock(queued)).ok;
      },
      supersededBy: (current) => deployments.takenOver(current),
    };
  }
}
