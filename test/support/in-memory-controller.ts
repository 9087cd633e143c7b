import {
  TERMINAL_PHASES,
  type ActionRequest,
  type ActionResult,
  type DeploymentController,
  type DeploymentObserver,
  type DeploymentView,
  type EnvironmentStatus,
  type LockView,
  type Phase,
  type RepoRef,
  type StartRequest,
  type StartResult,
} from "../../src/deploy/api.ts";
import { quoteUserText } from "../../src/notify/public-text.ts";

export interface RecordedCall {
  method: keyof DeploymentController;
  request: unknown;
}

/**
 * Stands in for the deployment controller (`src/deploy/`, which has its own tests) so that command
 * handler tests exercise the handler, not the controller. It records every call and answers as the
 * controller would: one deployment per environment at a time (later ones queue), a sticky lock held
 * refuses every deploy (its holder's too) with the holder named, a repeated idempotency key
 * returns the deployment it started, actions need a running deployment. It keeps
 * a single repository's state, and deployments only move when a test moves them.
 */
export class InMemoryController implements DeploymentController {
  readonly calls: RecordedCall[] = [];
  readonly deployments: DeploymentView[] = [];
  readonly locks = new Map<string, LockView>();
  readonly #live = new Map<string, { sha: string; digest: string }>();
  readonly #observers: DeploymentObserver[] = [];
  /** Deployment id → the idempotency key it was started with. */
  readonly #keys = new Map<string, string>();
  #clock = 1_700_000_000_000;

  observe(observer: DeploymentObserver): void {
    this.#observers.push(observer);
  }

  /** What an environment runs, as if an earlier deployment had finished there. */
  setLive(environment: string, sha: string, digest = `sha256:${"0".repeat(64)}`): void {
    this.#live.set(environment, { sha, digest });
  }

  async start(request: StartRequest): Promise<StartResult> {
    this.calls.push({ method: "start", request });
    const existing = request.idempotencyKey === undefined ? undefined : this.deployments.find((deployment) => this.#keys.get(deployment.id) === request.idempotencyKey);
    if (existing) return { outcome: existing.phase === "queued" ? "queued" : "started", deployment: existing };
    // As the real controller: a sticky lock refuses every deploy, its holder's own included.
    const lock = this.locks.get(request.environment);
    if (lock?.kind === "sticky") {
      return { outcome: "refused", reason: `${request.environment} is locked by @${lock.holder}${lock.reason ? ` (${quoteUserText(lock.reason)})` : ""}; /unlock ${request.environment} first` };
    }
    const busy = this.#running(request.environment) !== undefined;
    const deployment = this.#record({
      id: `d-${this.deployments.length + 1}`,
      repo: request.repo,
      environment: request.environment,
      sha: request.sha,
      imageDigest: `sha256:${request.sha.padEnd(64, "0").slice(0, 64)}`,
      phase: busy ? "queued" : "preparing",
      step: 0,
      liveColour: "blue",
      weights: { blue: 100, green: 0 },
      verdicts: [],
      requestedBy: request.requestedBy,
      pullRequest: request.pullRequest,
      reason: null,
      timeToRestoreMs: null,
      warmUntil: null,
      createdAt: this.#tick(),
      updatedAt: this.#clock,
    });
    if (request.idempotencyKey !== undefined) this.#keys.set(deployment.id, request.idempotencyKey);
    if (!busy) this.locks.set(request.environment, this.#lockFor(deployment));
    await this.#notify(deployment);
    return { outcome: busy ? "queued" : "started", deployment };
  }

  approve = (request: ActionRequest) => this.#act("approve", request, "shifting");
  promote = (request: ActionRequest) => this.#act("promote", request, "promoting");
  abort = (request: ActionRequest) => this.#act("abort", request, "aborted");
  rollback = (request: ActionRequest) => this.#act("rollback", request, "rolling-back");

  async lock(request: ActionRequest & { pullRequest: number | null }) {
    this.calls.push({ method: "lock", request });
    const held = this.locks.get(request.environment);
    if (held?.kind === "sticky" && held.holder === request.by) return { ok: true as const, lock: held };
    if (held) {
      const why = held.kind === "deploy" ? "a deployment in progress" : held.reason ? quoteUserText(held.reason) : "no reason given";
      return { ok: false as const, reason: `${request.environment} is already locked by @${held.holder} (${why})` };
    }
    const lock: LockView = {
      environment: request.environment,
      holder: request.by,
      reason: request.reason ?? null,
      kind: "sticky",
      pullRequest: request.pullRequest,
      since: this.#tick(),
    };
    this.locks.set(request.environment, lock);
    return { ok: true as const, lock };
  }

  async unlock(request: ActionRequest) {
    this.calls.push({ method: "unlock", request });
    const held = this.locks.get(request.environment);
    if (!held) return { ok: false as const, reason: `${request.environment} is not locked` };
    if (held.kind === "deploy") return { ok: false as const, reason: `${request.environment} is held by a deployment in progress; /abort ${request.environment} to stop it` };
    this.locks.delete(request.environment);
    return { ok: true as const };
  }

  /** It never finds drift: there is no load balancer here. */
  async acknowledgeDrift(request: ActionRequest) {
    this.calls.push({ method: "acknowledgeDrift", request });
    return { ok: false as const, reason: `no drift has been found in ${request.environment}; there is nothing to acknowledge` };
  }

  async releaseLocksOf(repo: RepoRef, pullRequest: number): Promise<LockView[]> {
    this.calls.push({ method: "releaseLocksOf", request: { repo, pullRequest } });
    const released = [...this.locks.values()].filter((lock) => lock.kind === "sticky" && lock.pullRequest === pullRequest);
    for (const lock of released) this.locks.delete(lock.environment);
    return released;
  }

  async status(_repo: RepoRef): Promise<EnvironmentStatus[]> {
    const environments = new Set([...this.#live.keys(), ...this.locks.keys(), ...this.deployments.map((d) => d.environment)]);
    return [...environments].map((environment) => {
      const running = this.#running(environment) ?? null;
      return {
        environment,
        liveSha: this.#live.get(environment)?.sha ?? null,
        liveDigest: this.#live.get(environment)?.digest ?? null,
        weights: running?.weights ?? null,
        running,
        queued: this.deployments.filter((deployment) => deployment.environment === environment && deployment.phase === "queued"),
        lock: this.locks.get(environment) ?? null,
        drift: null,
      };
    });
  }

  async history(_repo: RepoRef, environment?: string): Promise<DeploymentView[]> {
    return this.deployments.filter((deployment) => environment === undefined || deployment.environment === environment).reverse();
  }

  async #act(method: "approve" | "promote" | "abort" | "rollback", request: ActionRequest, phase: Phase): Promise<ActionResult> {
    this.calls.push({ method, request });
    const running = this.#running(request.environment);
    if (!running) return { ok: false, reason: `nothing is deploying to ${request.environment}` };
    const deployment = this.#record({ ...running, phase, updatedAt: this.#tick() });
    await this.#notify(deployment);
    return { ok: true, deployment };
  }

  #running(environment: string): DeploymentView | undefined {
    return this.deployments.find((deployment) => deployment.environment === environment && !TERMINAL_PHASES.has(deployment.phase));
  }

  #record(view: DeploymentView): DeploymentView {
    const index = this.deployments.findIndex((deployment) => deployment.id === view.id);
    if (index === -1) this.deployments.push(view);
    else this.deployments[index] = view;
    return view;
  }

  #lockFor(deployment: DeploymentView): LockView {
    return { environment: deployment.environment, holder: deployment.requestedBy, reason: null, kind: "deploy", pullRequest: deployment.pullRequest, since: deployment.createdAt };
  }

  async #notify(deployment: DeploymentView): Promise<void> {
    for (const observer of this.#observers) await observer.deploymentChanged(deployment);
  }

  #tick(): number {
    this.#clock += 1_000;
    return this.#clock;
  }
}
