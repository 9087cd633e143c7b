// Check runs: create, update, get, list for a ref.
import { type Ctx, type Handler, HttpError, found, intParam, repoOf } from "../http.ts";
import { type CheckRun, type Repo, now, resolveRef } from "../state.ts";
import { appView, checkRunView } from "../views.ts";

interface CheckRunBody {
  name?: string;
  head_sha?: string;
  status?: string;
  conclusion?: string;
  external_id?: string;
  details_url?: string;
  started_at?: string;
  completed_at?: string;
  output?: { title?: string; summary?: string; text?: string; annotations?: unknown[] };
  actions?: Array<{ label: string; description: string; identifier: string }>;
}

function view(ctx: Ctx, repo: Repo, run: CheckRun): Record<string, unknown> {
  const slug = ctx.state.botUser.login.replace("[bot]", "");
  return checkRunView(ctx.baseUrl, repo, run, appView(ctx.baseUrl, ctx.state.appId, slug, repo.owner));
}

/** GitHub's rules beyond the schema: a conclusion completes the run; completed needs a conclusion. */
function apply(run: CheckRun, body: CheckRunBody): void {
  if (body.name !== undefined) run.name = body.name;
  if (body.external_id !== undefined) run.externalId = body.external_id;
  if (body.details_url !== undefined) run.detailsUrl = body.details_url;
  if (body.started_at !== undefined) run.startedAt = body.started_at;
  if (body.actions !== undefined) run.actions = body.actions;
  if (body.status !== undefined) run.status = body.status;
  if (body.conclusion !== undefined) {
    run.conclusion = body.conclusion;
    run.status = "completed";
  }
  if (run.status === "completed" && run.conclusion === null) {
    throw new HttpError(422, "Invalid request.\n\nconclusion is required when status is completed.");
  }
  if (run.status === "completed") run.completedAt = body.completed_at ?? run.completedAt ?? now();
  if (body.output) {
    const { annotations = [], ...rest } = body.output;
    run.output = { ...run.output, ...rest, annotations: [...run.output.annotations, ...annotations] };
  }
}

/** GitHub keeps one check suite per app and commit; an app's check runs on a commit belong to it. */
function checkSuiteOf(ctx: Ctx, repo: Repo, headSha: string): number {
  const key = `${ctx.state.appId}:${headSha}`;
  let id = repo.checkSuites.get(key);
  if (id === undefined) {
    id = ctx.state.nextId();
    repo.checkSuites.set(key, id);
  }
  return id;
}

export const checkHandlers: Record<string, Handler> = {
  "checks/create": (ctx) => {
    const repo = repoOf(ctx);
    const body = ctx.body as CheckRunBody;
    const headSha = String(body.head_sha);
    if (!repo.commits.has(headSha)) throw new HttpError(422, `No commit found for SHA: ${headSha}`);
    const run: CheckRun = {
      id: ctx.state.nextId(),
      name: String(body.name),
      headSha,
      status: "queued",
      conclusion: null,
      externalId: "",
      detailsUrl: null,
      startedAt: now(),
      completedAt: null,
      output: { title: null, summary: null, text: null, annotations: [] },
      actions: [],
      appId: ctx.state.appId,
      checkSuiteId: checkSuiteOf(ctx, repo, headSha),
    };
    apply(run, body);
    repo.checkRuns.set(run.id, run);
    return { status: 201, data: view(ctx, repo, run) };
  },
  "checks/update": (ctx) => {
    const repo = repoOf(ctx);
    const run = found(repo.checkRuns.get(intParam(ctx, "check_run_id")));
    const next = structuredClone(run);
    apply(next, ctx.body as CheckRunBody);
    Object.assign(run, next);
    return { status: 200, data: view(ctx, repo, run) };
  },
  "checks/get": (ctx) => {
    const repo = repoOf(ctx);
    return { status: 200, data: view(ctx, repo, found(repo.checkRuns.get(intParam(ctx, "check_run_id")))) };
  },
  "checks/list-for-ref": (ctx) => {
    const repo = repoOf(ctx);
    const sha = found(resolveRef(repo, ctx.params.ref));
    const name = ctx.query.get("check_name");
    const status = ctx.query.get("status");
    let runs = [...repo.checkRuns.values()]
      .filter((r) => r.headSha === sha && (!name || r.name === name) && (!status || r.status === status))
      .toSorted((a, b) => b.id - a.id);
    // filter=latest (the default) keeps the newest run of each name.
    if ((ctx.query.get("filter") ?? "latest") === "latest") {
      runs = runs.filter((r, i) => runs.findIndex((o) => o.name === r.name) === i);
    }
    return {
      status: 200,
      list: {
        items: runs.map((r) => view(ctx, repo, r)),
        wrap: (page, total) => ({ total_count: total, check_runs: page }),
      },
    };
  },
};
