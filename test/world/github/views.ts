// State → the meaningful fields of GitHub's response objects (shape.ts fills in the rest).
import type { CheckRun, Comment, Deployment, DeploymentStatus, Pull, Repo, User } from "./state.ts";

export function userView(base: string, user: User): Record<string, unknown> {
  return {
    login: user.login,
    id: user.id,
    node_id: `U_${user.id}`,
    type: user.type,
    site_admin: false,
    url: `${base}/users/${encodeURIComponent(user.login)}`,
    html_url: `${base}/${encodeURIComponent(user.login)}`,
  };
}

export function repoView(base: string, repo: Repo): Record<string, unknown> {
  return {
    id: repo.id,
    node_id: `R_${repo.id}`,
    name: repo.name,
    full_name: repo.fullName,
    owner: userView(base, repo.owner),
    private: repo.private,
    visibility: repo.private ? "private" : "public",
    default_branch: repo.defaultBranch,
    url: `${base}/repos/${repo.fullName}`,
    html_url: `${base}/${repo.fullName}`,
  };
}

export function commentView(base: string, repo: Repo, c: Comment): Record<string, unknown> {
  return {
    id: c.id,
    node_id: `IC_${c.id}`,
    body: c.body,
    user: userView(base, c.user),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    author_association: c.user.login === repo.owner.login ? "OWNER" : "NONE",
    url: `${base}/repos/${repo.fullName}/issues/comments/${c.id}`,
    html_url: `${base}/${repo.fullName}/pull/${c.issueNumber}#issuecomment-${c.id}`,
    issue_url: `${base}/repos/${repo.fullName}/issues/${c.issueNumber}`,
  };
}

export function reactionView(base: string, r: Comment["reactions"][number]): Record<string, unknown> {
  return { id: r.id, node_id: `REA_${r.id}`, content: r.content, user: userView(base, r.user), created_at: r.createdAt };
}

export function pullView(base: string, repo: Repo, p: Pull): Record<string, unknown> {
  const repoData = repoView(base, repo);
  const owner = userView(base, repo.owner);
  return {
    id: p.id,
    node_id: `PR_${p.id}`,
    number: p.number,
    title: p.title,
    body: p.body,
    state: p.state,
    draft: p.draft,
    locked: false,
    merged: false,
    user: userView(base, p.user),
    head: { ref: p.head.ref, sha: p.head.sha, label: `${repo.owner.login}:${p.head.ref}`, repo: repoData, user: owner },
    base: { ref: p.base.ref, sha: p.base.sha, label: `${repo.owner.login}:${p.base.ref}`, repo: repoData, user: owner },
    created_at: p.createdAt,
    updated_at: p.createdAt,
    url: `${base}/repos/${repo.fullName}/pulls/${p.number}`,
    html_url: `${base}/${repo.fullName}/pull/${p.number}`,
    issue_url: `${base}/repos/${repo.fullName}/issues/${p.number}`,
  };
}

export function checkRunView(base: string, repo: Repo, run: CheckRun, app: Record<string, unknown>): Record<string, unknown> {
  const url = `${base}/repos/${repo.fullName}/check-runs/${run.id}`;
  return {
    id: run.id,
    node_id: `CR_${run.id}`,
    name: run.name,
    head_sha: run.headSha,
    external_id: run.externalId,
    details_url: run.detailsUrl,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    output: {
      title: run.output.title,
      summary: run.output.summary,
      text: run.output.text,
      annotations_count: run.output.annotations.length,
      annotations_url: `${url}/annotations`,
    },
    check_suite: { id: run.checkSuiteId },
    app,
    pull_requests: [],
    url,
    html_url: `${base}/${repo.fullName}/runs/${run.id}`,
  };
}

export function deploymentView(base: string, repo: Repo, d: Deployment): Record<string, unknown> {
  const url = `${base}/repos/${repo.fullName}/deployments/${d.id}`;
  return {
    id: d.id,
    node_id: `DE_${d.id}`,
    sha: d.sha,
    ref: d.ref,
    task: d.task,
    environment: d.environment,
    original_environment: d.environment,
    description: d.description,
    payload: d.payload,
    transient_environment: d.transientEnvironment,
    production_environment: d.productionEnvironment,
    creator: userView(base, d.creator),
    created_at: d.createdAt,
    updated_at: d.statuses.at(-1)?.createdAt ?? d.createdAt,
    url,
    statuses_url: `${url}/statuses`,
    repository_url: `${base}/repos/${repo.fullName}`,
  };
}

export function deploymentStatusView(base: string, repo: Repo, d: Deployment, s: DeploymentStatus): Record<string, unknown> {
  const deploymentUrl = `${base}/repos/${repo.fullName}/deployments/${d.id}`;
  return {
    id: s.id,
    node_id: `DES_${s.id}`,
    state: s.state,
    description: s.description,
    environment: s.environment,
    // Unset URLs are left to shape.ts: GitHub's description demands a URI for each of them.
    target_url: s.targetUrl || undefined,
    log_url: s.logUrl || undefined,
    environment_url: s.environmentUrl || undefined,
    creator: userView(base, s.creator),
    created_at: s.createdAt,
    updated_at: s.createdAt,
    url: `${deploymentUrl}/statuses/${s.id}`,
    deployment_url: deploymentUrl,
    repository_url: `${base}/repos/${repo.fullName}`,
  };
}

export const APP_PERMISSIONS = {
  checks: "write",
  contents: "read",
  deployments: "write",
  issues: "write",
  pull_requests: "write",
  statuses: "write",
  members: "read",
  metadata: "read",
};
export const APP_EVENTS = ["push", "pull_request", "check_run", "check_suite", "issue_comment", "installation"];

export function appView(base: string, appId: number, slug: string, owner: User): Record<string, unknown> {
  return {
    id: appId,
    slug,
    node_id: `A_${appId}`,
    name: slug,
    owner: userView(base, owner),
    description: null,
    external_url: base,
    html_url: `${base}/apps/${slug}`,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    permissions: APP_PERMISSIONS,
    events: APP_EVENTS,
  };
}
