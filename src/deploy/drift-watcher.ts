import type { Logger } from "probot";
import type { AuditLog } from "../audit/audit-log.ts";
import type { DeploymentObserver, RepoRef, Weights } from "./api.ts";

/** An environment's repository as the store lists it; the repository id comes with each deployment. */
type EnvironmentRepo = Pick<RepoRef, "owner" | "repo">;
import type { Deployment } from "./deployment-state.ts";
import { LOCK_FREE_PHASES, type DeploymentStore } from "./deployment-store.ts";
import { splitText } from "./drift-store.ts";
import type { DeployTargetsFactory } from "./targets.ts";

export interface DriftWatcherOptions {
  deployments: DeploymentStore;
  targetsFor: DeployTargetsFactory;
  observer: DeploymentObserver;
  audit: Pick<AuditLog, "record">;
  log: Logger;
  /** Time between two looks at every environment. */
  intervalMs?: number;
}

export const DEFAULT_DRIFT_INTERVAL_MS = 60_000;

/** How many recent deployments of an environment are read to find the one that last set its weights. */
const RECENT = 20;

/**
 * Reads the production listener of every environment no deployment is acting on, and compares its
 * weights with the ones Gantry last set there. A difference (someone used the console or the CLI) is
 * recorded once, audited, and shown in `/status` and the status comment; deploys then wait for a
 * person (see `Controller.start`).
 */
export class DriftWatcher {
  readonly #options: DriftWatcherOptions;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<void> | undefined;
  #stopped = false;

  constructor(options: DriftWatcherOptions) {
    this.#options = options;
    this.#intervalMs = options.intervalMs ?? DEFAULT_DRIFT_INTERVAL_MS;
  }

  start(): void {
    this.#stopped = false;
    if (!this.#timer) this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#pass;
  }

  /** One look at every environment; one that cannot be read is logged and looked at again next time. */
  async checkAll(): Promise<void> {
    for (const { repo, environment } of await this.#options.deployments.environments()) {
      if (this.#stopped) return;
      await this.#check(repo, environment).catch((err: unknown) => this.#options.log.warn({ err, environment, repo: `${repo.owner}/${repo.repo}` }, "could not check the environment for drift"));
    }
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#pass = this.checkAll()
        .catch((err: unknown) => this.#options.log.error({ err }, "drift check failed"))
        .finally(() => {
          this.#pass = undefined;
          if (!this.#stopped) this.#schedule();
        });
    }, this.#intervalMs);
    this.#timer.unref();
  }

  async #check(repo: EnvironmentRepo, environment: string): Promise<void> {
    const { deployments, targetsFor, observer, audit, log } = this.#options;
    const before = await this.#lastSetter(repo, environment);
    if (!before?.state.weights) return;
    const expected = before.state.weights;
    const observed = await targetsFor(before.repo, environment, before.state.environment).router.getWeights();
    if (sameWeights(observed, expected)) return;
    // A deployment that started, or was asked to act, while the listener was read owns those weights.
    const after = await this.#lastSetter(repo, environment);
    if (!after || !unchanged(before, after)) return;

    const outcome = await deployments.drifts.observe({ repo, environment, deploymentId: before.id, expected, observed });
    if (outcome === "unchanged") return;
    const reason = `the ${environment} load balancer reports ${splitText(observed)}; Gantry last set ${splitText(expected)} (deployment ${before.id} of ${before.sha.slice(0, 7)})`;
    log.warn({ repo: `${repo.owner}/${repo.repo}`, environment, expected, observed }, "traffic changed outside Gantry");
    if (outcome === "new") {
      await audit.record({
        repository: `${repo.owner}/${repo.repo}`,
        issueNumber: before.pullRequest,
        commentId: null,
        actor: "gantry",
        command: "drift check",
        environment,
        decision: "detected",
        gate: null,
        reason,
      });
    }
    const view = await deployments.view(before.id);
    if (view) await observer.deploymentChanged(view);
  }

  /**
   * The deployment whose weights the listener should report: the newest that set any, provided no
   * deployment of the environment is running (a running one owns the weights) or has a request pending.
   */
  async #lastSetter(repo: EnvironmentRepo, environment: string): Promise<Deployment | undefined> {
    const recent = await this.#options.deployments.list(repo, { environment, limit: RECENT });
    // An ended deployment is never ticked again, so a request left on it acts on nothing.
    const acting = (deployment: Deployment) => !LOCK_FREE_PHASES.has(deployment.phase) || (deployment.phase === "cooling" && deployment.pendingAction !== null);
    if (recent.some(acting)) return undefined;
    return recent.find((deployment) => deployment.state.weights !== null);
  }
}

function unchanged(before: Deployment, after: Deployment): boolean {
  return after.id === before.id && after.phase === before.phase && after.updatedAt === before.updatedAt && after.fence === before.fence;
}

function sameWeights(a: Weights, b: Weights): boolean {
  return a.blue === b.blue && a.green === b.green;
}

