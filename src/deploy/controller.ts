import { randomUUID } from "node:crypto";
import type { EnvironmentConfig } from "../config/repo-config.ts";
import {
  type ActionRequest,
  type ActionResult,
  type DeploymentController,
  type DeploymentObserver,
  type EnvironmentStatus,
  type LockView,
  type Phase,
  type RepoRef,
  type StartRequest,
  type StartResult,
} from "./api.ts";
import { quoteUserText } from "../notify/public-text.ts";
import { initialState, toView, type Deployment, type PendingAction } from "./deployment-state.ts";
import { LOCK_FREE_PHASES, type DeploymentStore } from "./deployment-store.ts";
import { rollbackTarget } from "./rollback-target.ts";
import { TargetsRefused, type DeployTargets, type DeployTargetsFactory } from "./targets.ts";

const ACTIVE_PHASES = (["queued", "preparing", "warming", "smoke-testing", "awaiting-approval", "shifting", "paused", "promoting", "watching", "rolling-back"] as const) satisfies Phase[];

/** Which phases accept which request; anything else is refused with the phase named. */
const ACCEPTS: Record<PendingAction["kind"], ReadonlySet<Phase>> = {
  approve: new Set(["awaiting-approval"]),
  promote: new Set(["shifting", "paused"]),
  abort: new Set(["queued", "preparing", "warming", "smoke-testing", "awaiting-approval", "shifting", "paused", "promoting", "watching"]),
  rollback: new Set(["queued", "preparing", "warming", "smoke-testing", "awaiting-approval", "shifting", "paused", "promoting", "watching", "cooling"]),
};

export interface ControllerOptions {
  deployments: DeploymentStore;
  observer: DeploymentObserver;
  /** Tells the runner there is work now rather than at its next poll. */
  wake: () => void;
  targetsFor: DeployTargetsFactory;
}

/**
 * The controller's front door: records what people ask for and lets the runner act on it. It reads
 * ECR once, to pin the image a deployment will run; every change to the cloud happens in a tick,
 * under a lease.
 */
export class Controller implements DeploymentController {
  readonly #deployments: DeploymentStore;
  readonly #observer: DeploymentObserver;
  readonly #wake: () => void;
  readonly #targetsFor: DeployTargetsFactory;

  constructor(options: ControllerOptions) {
    this.#deployments = options.deployments;
    this.#observer = options.observer;
    this.#wake = options.wake;
    this.#targetsFor = options.targetsFor;
  }

  async start(request: StartRequest): Promise<StartResult> {
    const environment = request.config.environments[request.environment];
    if (!environment) {
      const names = Object.keys(request.config.environments).join(", ") || "(none)";
      return { outcome: "refused", reason: `there is no environment "${request.environment}"; the environments are: ${names}` };
    }
    const repeated = await this.#repeated(request.idempotencyKey);
    if (repeated) return repeated;
    const lock = await this.#deployments.lockOf(request.repo, request.environment);
    if (lock?.kind === "sticky") {
      return { outcome: "refused", reason: `${request.environment} is locked by @${lock.holder}${lock.reason ? ` (${quoteUserText(lock.reason)})` : ""}; /unlock ${request.environment} first` };
    }
    return this.#create(request, environment, request.config.build?.repository ?? null, { fastPath: request.fastPath ?? false });
  }

  async #create(
    request: Omit<StartRequest, "config">,
    environment: EnvironmentConfig,
    buildRepository: string | null,
    path: { fastPath: boolean; rollbackOf?: string },
  ): Promise<StartResult> {
    if (!buildRepository) return { outcome: "refused", reason: "no ECR repository is configured: set build.repository in .github/gantry.yml" };
    let targets: DeployTargets;
    try {
      targets = this.#targetsFor(request.repo, request.environment, environment);
    } catch (error) {
      if (error instanceof TargetsRefused) return { outcome: "refused", reason: error.message };
      throw error;
    }
    const image = await targets.registry.resolve(buildRepository, request.sha);
    if (!image) {
      return { outcome: "refused", reason: `no image tagged ${request.sha} in ECR repository ${buildRepository}: build it before deploying` };
    }
    const now = this.#deployments.now;
    const deployment: Deployment = {
      id: randomUUID(),
      repo: request.repo,
      environment: request.environment,
      sha: request.sha,
      phase: "queued",
      requestedBy: request.requestedBy,
      pullRequest: request.pullRequest,
      state: initialState({ repositoryId: request.repo.id, environment, buildRepository, image, now, ...path }),
      pendingAction: null,
      nextTickAt: now,
      fence: 0,
      createdAt: now,
      updatedAt: now,
    };
    // The lock names the deployment before its row exists; a lock whose deployment never got written is stale.
    const acquired = await this.#deployments.acquireDeployLock(deployment);
    const created = { ...deployment, phase: acquired.ok ? ("preparing" as const) : ("queued" as const) };
    if (!(await this.#deployments.insert(created, request.idempotencyKey ?? null))) {
      // The same request raced in from elsewhere and won: answer with its deployment.
      await this.#deployments.releaseDeployLock(deployment.id);
      return (await this.#repeated(request.idempotencyKey))!;
    }
    await this.#observer.deploymentChanged(toView(created));
    this.#wake();
    return { outcome: acquired.ok ? "started" : "queued", deployment: toView(created) };
  }

  async #repeated(idempotencyKey: string | undefined): Promise<StartResult | undefined> {
    if (idempotencyKey === undefined) return undefined;
    const existing = await this.#deployments.byIdempotencyKey(idempotencyKey);
    return existing && { outcome: existing.phase === "queued" ? "queued" : "started", deployment: toView(existing) };
  }

  approve(request: ActionRequest): Promise<ActionResult> {
    return this.#request("approve", request);
  }

  promote(request: ActionRequest): Promise<ActionResult> {
    return this.#request("promote", request);
  }

  abort(request: ActionRequest): Promise<ActionResult> {
    return this.#request("abort", request);
  }

  /**
   * Rolls back the running or warm deployment; when the old colour has already been scaled down,
   * redeploys the previous successful commit by the fast path (no canary steps).
   */
  async rollback(request: ActionRequest): Promise<ActionResult> {
    const repeated = await this.#repeated(request.idempotencyKey);
    if (repeated && repeated.outcome !== "refused") return { ok: true, deployment: repeated.deployment };
    const current = await this.#current(request.repo, request.environment, [...ACTIVE_PHASES, "cooling"]);
    if (current && current.phase !== "rolling-back" && !(current.phase === "cooling" && (await this.#deployments.takenOver(current)))) {
      return this.#request("rollback", request);
    }
    // A cooling deployment is the live one, though no longer rollable in place.
    const succeeded = await this.#deployments.list(request.repo, { environment: request.environment, phases: ["succeeded", "cooling"], limit: 50 });
    const chosen = rollbackTarget(succeeded);
    if (!chosen) return { ok: false, reason: `nothing to roll back to in ${request.environment}: it has no earlier successful deployment of another commit` };
    const { live, target } = chosen;
    const result = await this.#create(
      {
        repo: request.repo,
        environment: request.environment,
        sha: target.sha,
        requestedBy: request.by,
        pullRequest: live.pullRequest,
        ...(request.idempotencyKey === undefined ? {} : { idempotencyKey: request.idempotencyKey }),
      },
      live.state.environment,
      live.state.buildRepository,
      { fastPath: true, rollbackOf: live.id },
    );
    return result.outcome === "refused" ? { ok: false, reason: result.reason } : { ok: true, deployment: result.deployment };
  }

  async lock(request: ActionRequest & { pullRequest: number | null }) {
    const result = await this.#deployments.stickyLock(request.repo, request.environment, request.by, request.reason ?? null, request.pullRequest);
    if (result.ok) return result;
    const { holder } = result;
    return { ok: false as const, reason: `${request.environment} is already locked by @${holder.holder} (${holder.kind === "deploy" ? "a deployment in progress" : holder.reason ? quoteUserText(holder.reason) : "no reason given"})` };
  }

  async unlock(request: ActionRequest) {
    const lock = await this.#deployments.lockOf(request.repo, request.environment);
    if (!lock) return { ok: false as const, reason: `${request.environment} is not locked` };
    if (lock.kind === "deploy") return { ok: false as const, reason: `${request.environment} is held by a deployment in progress; /abort ${request.environment} to stop it` };
    await this.#deployments.removeStickyLock(request.repo, request.environment);
    return { ok: true as const };
  }

  releaseLocksOf(repo: RepoRef, pullRequest: number): Promise<LockView[]> {
    return this.#deployments.removeStickyLocksOf(repo, pullRequest);
  }

  async status(repo: RepoRef): Promise<EnvironmentStatus[]> {
    const recent = await this.#deployments.list(repo, { limit: 200 });
    const environments = [...new Set(recent.map((deployment) => deployment.environment))].sort();
    return Promise.all(
      environments.map(async (environment) => {
        const ofEnvironment = recent.filter((deployment) => deployment.environment === environment);
        const live = ofEnvironment.find((deployment) => deployment.phase === "succeeded" || deployment.phase === "cooling");
        const running = ofEnvironment.find((deployment) => !LOCK_FREE_PHASES.has(deployment.phase) && deployment.phase !== "queued") ?? null;
        const lastKnown = ofEnvironment.find((deployment) => deployment.state.weights !== null);
        return {
          environment,
          liveSha: live?.sha ?? null,
          liveDigest: live?.state.imageDigest ?? null,
          weights: lastKnown?.state.weights ?? null,
          running: running && toView(running),
          lock: (await this.#deployments.lockOf(repo, environment)) ?? null,
        };
      }),
    );
  }

  async history(repo: RepoRef, environment?: string) {
    return (await this.#deployments.list(repo, environment ? { environment } : {})).map(toView);
  }

  async #current(repo: RepoRef, environment: string, phases: Phase[]): Promise<Deployment | undefined> {
    const [current] = await this.#deployments.list(repo, { environment, phases, limit: 1 });
    return current;
  }

  /**
   * A cooling deployment's old colour is warm only until a later deployment puts its own revision
   * on it (a failed one then scales it to zero): traffic sent back there would reach no task.
   */
  async #request(kind: PendingAction["kind"], request: ActionRequest): Promise<ActionResult> {
    const current = await this.#current(request.repo, request.environment, [...ACTIVE_PHASES, "cooling"]);
    if (!current) return { ok: false, reason: `no deployment is running in ${request.environment}` };
    if (!ACCEPTS[kind].has(current.phase)) {
      return { ok: false, reason: `the deployment of ${current.sha.slice(0, 7)} to ${request.environment} is ${current.phase}; /${kind} does not apply now` };
    }
    const action: PendingAction = { kind, by: request.by, reason: request.reason ?? null, at: this.#deployments.now };
    if (!(await this.#deployments.requestAction(current.id, action))) {
      return { ok: false, reason: `the deployment of ${current.sha.slice(0, 7)} to ${request.environment} has just ended` };
    }
    this.#wake();
    return { ok: true, deployment: toView((await this.#deployments.get(current.id))!) };
  }
}
