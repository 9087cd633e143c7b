// Deployments and deployment statuses, so the Environments page has real history.
import { type Ctx, type Handler, HttpError, found, intParam, repoOf } from "../http.ts";
import { type Deployment, type DeploymentStatus, type Repo, now, resolveRef } from "../state.ts";
import { deploymentStatusView, deploymentView } from "../views.ts";

function deploymentOf(ctx: Ctx): { repo: Repo; deployment: Deployment } {
  const repo = repoOf(ctx);
  return { repo, deployment: found(repo.deployments.get(intParam(ctx, "deployment_id"))) };
}

function addStatus(ctx: Ctx, d: Deployment, fields: Partial<DeploymentStatus> & { state: string }): DeploymentStatus {
  const status: DeploymentStatus = {
    id: ctx.state.nextId(),
    description: "",
    environment: d.environment,
    targetUrl: "",
    logUrl: "",
    environmentUrl: "",
    creator: ctx.state.botUser,
    createdAt: now(),
    ...fields,
  };
  d.statuses.push(status);
  return status;
}

export const deploymentHandlers: Record<string, Handler> = {
  "repos/create-deployment": (ctx) => {
    const repo = repoOf(ctx);
    const b = ctx.body as { ref: string; task?: string; environment?: string; description?: string | null; payload?: unknown; transient_environment?: boolean; production_environment?: boolean };
    const sha = resolveRef(repo, b.ref);
    if (!sha) throw new HttpError(422, `No ref found for: ${b.ref}`);
    const environment = b.environment ?? "production";
    const deployment: Deployment = {
      id: ctx.state.nextId(),
      sha,
      ref: b.ref,
      task: b.task ?? "deploy",
      environment,
      description: b.description ?? null,
      payload: typeof b.payload === "string" && b.payload !== "" ? JSON.parse(b.payload) : (b.payload ?? {}),
      transientEnvironment: b.transient_environment ?? false,
      productionEnvironment: b.production_environment ?? environment === "production",
      creator: ctx.state.botUser,
      createdAt: now(),
      statuses: [],
    };
    repo.deployments.set(deployment.id, deployment);
    return { status: 201, data: deploymentView(ctx.baseUrl, repo, deployment) };
  },
  "repos/list-deployments": (ctx) => {
    const repo = repoOf(ctx);
    const filters: Array<[string, (d: Deployment) => string]> = [["sha", (d) => d.sha], ["ref", (d) => d.ref], ["task", (d) => d.task], ["environment", (d) => d.environment]];
    const deployments = [...repo.deployments.values()]
      .filter((d) => filters.every(([key, get]) => !ctx.query.has(key) || get(d) === ctx.query.get(key)))
      .toSorted((a, b) => b.id - a.id);
    return { status: 200, list: { items: deployments.map((d) => deploymentView(ctx.baseUrl, repo, d)) } };
  },
  "repos/get-deployment": (ctx) => {
    const { repo, deployment } = deploymentOf(ctx);
    return { status: 200, data: deploymentView(ctx.baseUrl, repo, deployment) };
  },
  "repos/create-deployment-status": (ctx) => {
    const { repo, deployment } = deploymentOf(ctx);
    const b = ctx.body as { state: string; description?: string; environment?: string; target_url?: string; log_url?: string; environment_url?: string; auto_inactive?: boolean };
    const status = addStatus(ctx, deployment, {
      state: b.state,
      description: b.description ?? "",
      environment: b.environment ?? deployment.environment,
      targetUrl: b.log_url ?? b.target_url ?? "",
      logUrl: b.log_url ?? b.target_url ?? "",
      environmentUrl: b.environment_url ?? "",
    });
    // auto_inactive (default true): a success makes earlier non-transient deployments to the same
    // environment inactive, as GitHub does.
    if (b.state === "success" && (b.auto_inactive ?? true)) {
      for (const other of repo.deployments.values()) {
        const last = other.statuses.at(-1)?.state;
        if (other.id !== deployment.id && other.environment === deployment.environment && !other.transientEnvironment && last === "success") {
          addStatus(ctx, other, { state: "inactive", description: "superseded" });
        }
      }
    }
    return { status: 201, data: deploymentStatusView(ctx.baseUrl, repo, deployment, status) };
  },
  "repos/list-deployment-statuses": (ctx) => {
    const { repo, deployment } = deploymentOf(ctx);
    const statuses = deployment.statuses.toReversed();
    return { status: 200, list: { items: statuses.map((s) => deploymentStatusView(ctx.baseUrl, repo, deployment, s)) } };
  },
};
