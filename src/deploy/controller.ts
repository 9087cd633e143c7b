import { randomUUID } from "node:crypto";
import type { EnvironmentConfig } from "../config/repo-config.ts";
import {
  type ActionRequest,
  type ActionResult,
  type DeploymentController,
  type DeploymentObserver,
  type DriftView,
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
import { splitText, type DriftStore } from "./drift-store.ts";
import { undrivableFleet } from "./drivable.ts";
import type { ImageRequests } from "../images/image-builds.ts";
import { rollbackTarget } from "./rollback-target.ts";
import { TargetsRefused, type DeployTargets, type DeployTargetsFactory } from "./targets.ts";

const ACTIVE_PHASES = (["queued", "building", "preparing", "warming", "smoke-testing", "awaiting-approval", "shifting", "paused", "promoting", "watching", "rolling-back"] as const) satisfies Phase[];

/** Which phases accept which request; anything else is refused with the phase named. */
const ACCEPTS: Record<PendingAction["kind"], ReadonlySet<Phase>> = {
  approve: new Set(["awaiting-approval"]),
  promote: new Set(["shifting", "paused"]),
  abort: new Set(["queued", "building", "preparing", "warming", "smoke-testing", "awaiting-approval", "shifting", "paused", "promoting", "watching"]),
  rollback: new Set(["queued", "building", "preparing", "warming", "smoke-testing", "awaiting-approval", "shifting", "paused", "promoting", "watching", "cooling"]),
};

export interface ControllerOptions {
  deployments: DeploymentStore;
  observer: DeploymentObserver;
  /** Tells the runner there is work now rather than at its next poll. */
  wake: () => void;
  targetsFor: DeployTargetsFactory;
  /** Builds the image of a commit that has none; without it, such a commit is refused. */
  images?: ImageRequests;
}

/**
 * The controller's front door: records what people ask for and lets the runner act on it. It reads
 * ECR once, to pin the image a deployment will run; every change to the cloud happens in a tick,
 * under a lease.
 */
export class Controller implements DeploymentController {
  readonly #deployments: DeploymentStore;
  readonly #drifts: DriftStore;
  readonly #observer: DeploymentObserver;
  readonly #wake: () => void;
  readonly #targetsFor: DeployTargetsFactory;
  readonly #images: ImageRequests | undefined;

  constructor(options: ControllerOptions) {
    this.#deployments = options.deployments;
    this.#drifts = options.deployments.drifts;
    this.#observer = options.observer;
    this.#wake = options.wake;
    this.#targetsFor = options.targetsFor;
    this.#images = options.images;
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
    const drift = await this.#drifts.find(request.repo, request.environment);
    const open = drift?.resolution === null ? drift : undefined;
    if (open && !request.force) return { outcome: "refused", reason: driftRefusal(open) };
    const { build } = request.config;
    const slackChannel = environment.slack?.channel ?? request.config.slack?.channel ?? null;
    const result = await this.#create(request, environment, build ? { repository: build.repository, dockerfile: build.dockerfile, context: build.context } : null, {
      fastPath: request.fastPath ?? false,
      slackChannel,
    });
    if (!open || result.outcome === "refused") return result;
    const note = `deployed ${request.sha.slice(0, 7)} over it with --force (deployment ${result.deployment.id})`;
    const forced = await this.#drifts.resolve(request.repo, request.environment, { kind: "forced", by: request.requestedBy, note });
    if (forced) await this.#announce(forced);
    return { ...result, forcedOver: forced ?? open };
  }

  async #create(
    request: Omit<StartRequest, "config">,
    environment: EnvironmentConfig,
    build: { repository: string; dockerfile: string; context: string } | null,
    path: { fastPath: boolean; rollbackOf?: string; slackChannel: string | null },
  ): Promise<StartResult> {
    if (!build) return { outcome: "refused", reason: "no ECR repository is configured: set build.repository in .github/gantry.yml" };
    let targets: DeployTargets;
    try {
      targets = this.#targetsFor(request.repo, request.environment, environment);
    } catch (error) {
      if (error instanceof TargetsRefused) return { outcome: "refused", reason: error.message };
      throw error;
    }
    const undrivable = await undrivableFleet(targets.fleet);
    if (undrivable) return { outcome: "refused", reason: undrivable };
    const image = await targets.registry.resolve(build.repository, request.sha);
    const now = this.#deployments.now;
    if (!image) {
      // Built once, whoever asks: the deployment waits in `building` for the image the build loop makes.
      const refusal = await this.#requestImage(request, build, now);
      if (refusal) return { outcome: "refused", reason: refusal };
    }
    const deployment: Deployment = {
      id: randomUUID(),
      repo: request.repo,
      environment: request.environment,
      sha: request.sha,
      phase: "queued",
      requestedBy: request.requestedBy,
      pullRequest: request.pullRequest,
      state: initialState({
        repositoryId: request.repo.id,
        environment,
        buildRepository: build.repository,
        build: { dockerfile: build.dockerfile, context: build.context },
        image,
        now,
        ...path,
      }),
      pendingAction: null,
      approvals: [],
      nextTickAt: now,
      fence: 0,
      createdAt: now,
      updatedAt: now,
    };
    // The lock names the deployment before its row exists; a lock whose deployment never got written is stale.
    const acquired = await this.#deployments.acquireDeployLock(deployment);
    const created = { ...deployment, phase: acquired.ok ? (image ? ("preparing" as const) : ("building" as const)) : ("queued" as const) };
    if (!(await this.#deployments.insert(created, request.idempotencyKey ?? null))) {
      // The same request raced in from elsewhere and won: answer with its deployment.
      await this.#deployments.releaseDeployLock(deployment.id);
      return (await this.#repeated(request.idempotencyKey))!;
    }
    await this.#observer.deploymentChanged(toView(created));
    this.#wake();
    return { outcome: acquired.ok ? "started" : "queued", deployment: toView(created) };
  }

  /** Asks for the commit's image to be built; a sentence when it cannot be. */
  async #requestImage(request: Omit<StartRequest, "config">, build: { repository: string; dockerfile: string; context: string }, now: number): Promise<string | undefined> {
    const missing = `no image tagged ${request.sha} in ECR repository ${build.repository}`;
    if (!this.#images) return `${missing}, and this Gantry builds no images (GANTRY_IMAGE_BUILDER is unset): build and push it before deploying`;
    const status = await this.#images.ensure(
      { repo: request.repo, sha: request.sha, ecrRepository: build.repository, dockerfile: build.dockerfile, context: build.context },
      now,
    );
    if (status.status === "refused") return `${missing}, and it cannot be built: ${status.reason}`;
    return undefined;
  }

  async #repeated(idempotencyKey: string | undefined): Promise<StartResult | undefined> {
    if (idempotencyKey === undefined) return undefined;
    const existing = await this.#deployments.byIdempotencyKey(idempotencyKey);
    return existing && { outcome: existing.phase === "queued" ? "queued" : "started", deployment: toView(existing) };
  }

  /**
   * Counts a person's approval; once the environment's `approval.count` distinct people have approved,
   * asks the deployment to go on. Who may approve is the gates' business, not the controller's.
   */
  async approve(request: ActionRequest): Promise<ActionResult> {
    const target = request.id === undefined ? await this.#deployments.holderOf(request.repo, request.environment) : await this.#named("approve", request, request.id);
    if (typeof target === "string") return { ok: false, reason: target };
    if (!target) return { ok: false, reason: await this.#nothingRunning("approve", request) };
    if (target.phase !== "awaiting-approval") return this.#ask("approve", target, request);
    const approvals = await this.#deployments.addApproval(target.id, { by: request.by, at: this.#deployments.now });
    if (!approvals) return { ok: false, reason: `the deployment of ${target.sha.slice(0, 7)} to ${request.environment} no longer awaits approval` };
    const missing = (target.state.environment.approval.count ?? 1) - approvals.length;
    if (missing <= 0) return this.#ask("approve", target, request);
    const view = (await this.#deployments.view(target.id))!;
    await this.#observer.deploymentChanged(view);
    return { ok: true, deployment: view, approvalsMissing: missing };
  }

  promote(request: ActionRequest): Promise<ActionResult> {
    return this.#request("promote", request);
  }

  abort(request: ActionRequest): Promise<ActionResult> {
    return this.#request("abort", request);
  }

  /**
   * Rolls back the deployment that holds the environment, or the live one when none does: in place
   * while its old colour is warm (cooling), else by redeploying the previous successful commit by the
   * fast path (no canary steps). While a rollback runs, a second one changes nothing.
   */
  async rollback(request: ActionRequest): Promise<ActionResult> {
    const repeated = await this.#repeated(request.idempotencyKey);
    if (repeated && repeated.outcome !== "refused") return { ok: true, deployment: repeated.deployment };
    if (request.id === undefined) {
      const underWay = await this.#rollbackUnderWay(request.repo, request.environment);
      if (underWay) return { ok: true, deployment: toView(underWay), alreadyRunning: true };
      const holder = await this.#deployments.holderOf(request.repo, request.environment);
      if (holder) return this.#ask("rollback", holder, request);
      const cooling = await this.#deployments.list(request.repo, { environment: request.environment, phases: ["cooling"], limit: 1 });
      const warm = cooling[0] && (await this.#deployments.oldColourOf(cooling[0])) === "warm" ? cooling[0] : undefined;
      return warm ? this.#ask("rollback", warm, request) : this.#redeployPrevious(request);
    }
    const target = await this.#named("rollback", request, request.id);
    if (typeof target === "string") return { ok: false, reason: target };
    if (isRollingBack(target)) return { ok: true, deployment: toView(target), alreadyRunning: true };
    const inPlace = ACCEPTS.rollback.has(target.phase) && !(target.phase === "cooling" && (await this.#deployments.oldColourOf(target)) !== "warm");
    if (inPlace) return this.#ask("rollback", target, request);
    const live = await this.#deployments.list(request.repo, { environment: request.environment, phases: ["succeeded", "cooling"], limit: 1 });
    if (live[0]?.id === target.id) {
      const underWay = await this.#rollbackUnderWay(request.repo, request.environment);
      return underWay ? { ok: true, deployment: toView(underWay), alreadyRunning: true } : this.#redeployPrevious(request);
    }
    const what = `the deployment of ${target.sha.slice(0, 7)} to ${request.environment} is ${target.phase}`;
    return { ok: false, reason: `${what} and not the live one; \`/deploy ${request.environment} --sha <commit>\` deploys the commit you want` };
  }

  /** The newest successful deployment before the live one, redeployed by the fast path. */
  async #redeployPrevious(request: ActionRequest): Promise<ActionResult> {
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
      { repository: live.state.buildRepository, dockerfile: live.state.build?.dockerfile ?? "Dockerfile", context: live.state.build?.context ?? "." },
      { fastPath: true, rollbackOf: live.id, slackChannel: live.state.slackChannel },
    );
    return result.outcome === "refused" ? { ok: false, reason: result.reason } : { ok: true, deployment: result.deployment };
  }

  /** A rollback the environment already has: restoring traffic, asked for, or redeploying an earlier commit. */
  async #rollbackUnderWay(repo: RepoRef, environment: string): Promise<Deployment | undefined> {
    const active = await this.#deployments.list(repo, { environment, phases: [...ACTIVE_PHASES, "cooling"], limit: 50 });
    return active.find(isRollingBack);
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
    const [recent, drifts] = await Promise.all([this.#deployments.list(repo, { limit: 200 }), this.#drifts.ofRepo(repo)]);
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
          queued: ofEnvironment.filter((deployment) => deployment.phase === "queued").reverse().map((deployment) => toView(deployment)),
          lock: (await this.#deployments.lockOf(repo, environment)) ?? null,
          drift: drifts.find((drift) => drift.environment === environment) ?? null,
        };
      }),
    );
  }

  async history(repo: RepoRef, environment?: string) {
    const [deployments, drifts] = await Promise.all([this.#deployments.list(repo, environment ? { environment } : {}), this.#drifts.ofRepo(repo)]);
    return deployments.map((deployment) => toView(deployment, drifts.find((drift) => drift.deploymentId === deployment.id)));
  }

  async acknowledgeDrift(request: ActionRequest): Promise<{ ok: true; drift: DriftView } | { ok: false; reason: string }> {
    const drift = await this.#drifts.resolve(request.repo, request.environment, { kind: "acknowledged", by: request.by, note: request.reason ?? null });
    if (drift) {
      await this.#announce(drift);
      return { ok: true, drift };
    }
    const last = await this.#drifts.find(request.repo, request.environment);
    if (!last) return { ok: false, reason: `no drift has been found in ${request.environment}; there is nothing to acknowledge` };
    return { ok: false, reason: `the drift found in ${request.environment} was already ${last.resolution} by @${last.resolvedBy}; there is nothing open to acknowledge` };
  }

  /** Tells the observer, so the status comment of the deployment the drift is measured against shows it. */
  async #announce(drift: DriftView): Promise<void> {
    const view = await this.#deployments.view(drift.deploymentId);
    if (view) await this.#observer.deploymentChanged(view);
  }

  /**
   * The deployment a command names by id, or a sentence saying why it cannot be acted on. A prefix
   * of the id is enough when it is unique.
   */
  async #named(kind: PendingAction["kind"], request: ActionRequest, id: string): Promise<Deployment | string> {
    const found = await this.#deployments.findById(request.repo, id);
    const [deployment] = found;
    if (!deployment) return `there is no deployment ${id} in ${request.repo.owner}/${request.repo.repo}`;
    if (found.length > 1) return `more than one deployment id starts with ${id}; give more of it`;
    if (deployment.environment !== request.environment) {
      return `deployment ${id} is in ${deployment.environment}, not ${request.environment}: \`/${kind} ${deployment.environment} --id ${id}\``;
    }
    return deployment;
  }

  /**
   * Records a person's request on the deployment it addresses: the one named by id, else the one
   * holding the environment. A queued deployment is never acted on unless named.
   */
  async #request(kind: PendingAction["kind"], request: ActionRequest): Promise<ActionResult> {
    const target = request.id === undefined ? await this.#deployments.holderOf(request.repo, request.environment) : await this.#named(kind, request, request.id);
    if (typeof target === "string") return { ok: false, reason: target };
    if (!target) return { ok: false, reason: await this.#nothingRunning(kind, request) };
    return this.#ask(kind, target, request);
  }

  async #nothingRunning(kind: PendingAction["kind"], request: ActionRequest): Promise<string> {
    const queued = await this.#deployments.list(request.repo, { environment: request.environment, phases: ["queued"], limit: 10 });
    const none = `no deployment is running in ${request.environment}`;
    if (queued.length === 0) return none;
    const listed = queued.map((deployment) => `${deployment.id.slice(0, 8)} (${deployment.sha.slice(0, 7)})`).join(", ");
    return `${none}; queued: ${listed}. A queued deployment is acted on only when named: \`/${kind} ${request.environment} --id ${queued[0]!.id.slice(0, 8)}\``;
  }

  async #ask(kind: PendingAction["kind"], current: Deployment, request: ActionRequest): Promise<ActionResult> {
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

/** Restoring traffic, asked to, or redeploying an earlier commit (a queued one's pending rollback only cancels it). */
function isRollingBack(deployment: Deployment): boolean {
  const asked = deployment.pendingAction?.kind === "rollback";
  switch (deployment.phase) {
    case "rolling-back":
      return true;
    case "queued":
      return deployment.state.rollbackOf !== null;
    case "cooling":
      return asked;
    default:
      return !LOCK_FREE_PHASES.has(deployment.phase) && (asked || deployment.state.rollbackOf !== null);
  }
}


function driftRefusal(drift: DriftView): string {
  const { environment } = drift;
  return [
    `traffic in ${environment} was changed outside Gantry: the load balancer reports ${splitText(drift.observed)}, Gantry last set ${splitText(drift.expected)} (found ${new Date(drift.detectedAt).toISOString()}).`,
    `Find out who changed it and why, then \`/ack-drift ${environment}\` lets deploys in again; an admin can deploy over it with \`/deploy ${environment} --force\``,
  ].join(" ");
}
