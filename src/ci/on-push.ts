import type { Context } from "probot";
import { z } from "zod";
import { loadRepoConfig } from "../config/load-repo-config.ts";
import type { CiConfig } from "../config/repo-config.ts";
import { payloadFields } from "../inbox/invalid-payload.ts";
import type { CiService } from "./ci-service.ts";
import type { CiStore } from "./ci-store.ts";
import { matchesGlob } from "./glob.ts";
import { planShards, shardCount, weighFiles } from "./planner.ts";
import { runSettings } from "./run-settings.ts";

/** The fields of `push` the trigger uses. */
const pushFields = z.object({
  deleted: z.boolean().optional(),
  ref: z.string().max(1024),
  after: z.string().regex(/^[0-9a-f]{40}$/),
  repository: z.object({ id: z.number().int().positive(), name: z.string().min(1).max(100), default_branch: z.string().min(1).max(255), owner: z.object({ login: z.string().min(1).max(100) }) }),
  installation: z.object({ id: z.number().int().positive() }),
});

type Octokit = Context["octokit"];

/**
 * A push to the default branch, or to a branch with an open pull request, that the commit's `ci:`
 * settings let through starts a test run: the commit's test files, weighed by their history on the
 * default branch and split into shards. Reads only; the run's check runs leave through the outbox.
 */
export function ciOnPush(deps: { service: CiService; store: CiStore }) {
  return async (context: Context<"push">): Promise<void> => {
    const payload = payloadFields(pushFields, context);
    if (payload.deleted || !payload.ref.startsWith("refs/heads/")) return;
    const branch = payload.ref.slice("refs/heads/".length);
    const isDefault = branch === payload.repository.default_branch;
    await startRunFor(deps, context.octokit, {
      ...context.repo(),
      installationId: payload.installation.id,
      repositoryId: payload.repository.id,
      branch,
      sha: payload.after,
      isDefault,
      hasPullRequest: (at) => hasOpenPullRequest(context.octokit, at, branch),
    });
  };
}

/** The fields of `pull_request.opened` / `reopened` the trigger uses. */
const pullRequestFields = z.object({
  pull_request: z.object({
    head: z.object({ ref: z.string().min(1).max(255), sha: z.string().regex(/^[0-9a-f]{40}$/), repo: z.object({ id: z.number().int().positive() }).nullable() }),
  }),
  repository: z.object({ id: z.number().int().positive(), default_branch: z.string().min(1).max(255) }),
  installation: z.object({ id: z.number().int().positive() }),
});

/**
 * A pull request opened (or reopened) on a branch pushed before it: its head runs unless a run of
 * that commit exists already. A head from a fork is left alone (its code is not the repository's).
 */
export function ciOnPullRequest(deps: { service: CiService; store: CiStore }) {
  return async (context: Context<"pull_request.opened" | "pull_request.reopened">): Promise<void> => {
    const payload = payloadFields(pullRequestFields, context);
    const { head } = payload.pull_request;
    if (head.repo?.id !== payload.repository.id) return;
    if (await deps.store.latestRunForSha(payload.repository.id, head.sha)) return;
    await startRunFor(deps, context.octokit, {
      ...context.repo(),
      installationId: payload.installation.id,
      repositoryId: payload.repository.id,
      branch: head.ref,
      sha: head.sha,
      isDefault: head.ref === payload.repository.default_branch,
      hasPullRequest: async () => true,
    });
  };
}

interface RunRequest {
  owner: string;
  repo: string;
  installationId: number;
  repositoryId: number;
  branch: string;
  sha: string;
  isDefault: boolean;
  hasPullRequest: (at: { owner: string; repo: string }) => Promise<boolean>;
}

async function startRunFor(deps: { service: CiService; store: CiStore }, octokit: Octokit, request: RunRequest): Promise<void> {
  const at = { owner: request.owner, repo: request.repo };
  const loaded = await loadRepoConfig(octokit, { ...at, ref: request.sha });
  if (loaded.status !== "valid" || loaded.config.ci.tests === undefined) return;
  const ci = loaded.config.ci;
  if (!ci.branches.some((glob) => matchesGlob(request.branch, glob))) return;
  if (!request.isDefault && !(await request.hasPullRequest(at))) return;
  const files = await testFiles(octokit, { ...at, sha: request.sha }, ci.tests!);
  if (files.length === 0) return;
  const shards = await plan(deps.store, request.repositoryId, files, ci);
  await deps.service.startRun({
    installationId: request.installationId,
    ...at,
    repositoryId: request.repositoryId,
    branch: request.branch,
    sha: request.sha,
    defaultBranch: request.isDefault,
    settings: JSON.stringify(runSettings(ci)),
    shards,
  });
}

async function plan(store: CiStore, repositoryId: number, files: string[], ci: CiConfig): Promise<string[][]> {
  const weighed = weighFiles(files, await store.timingHistory(repositoryId, files), ci.newFileDuration);
  const count = shardCount(weighed, ci.shards === "auto" ? { auto: { targetWallTimeMs: ci.targetWallTime, maxShards: ci.maxShards } } : ci.shards);
  return planShards(weighed, count).map((shard) => shard.files);
}

async function hasOpenPullRequest(octokit: Octokit, at: { owner: string; repo: string }, branch: string): Promise<boolean> {
  const { data } = await octokit.rest.pulls.list({ ...at, head: `${at.owner}:${branch}`, state: "open", per_page: 1 });
  return data.length > 0;
}

/** The commit's files matching the glob, from one recursive tree read. */
async function testFiles(octokit: Octokit, at: { owner: string; repo: string; sha: string }, glob: string): Promise<string[]> {
  const { data } = await octokit.rest.git.getTree({ owner: at.owner, repo: at.repo, tree_sha: at.sha, recursive: "1" });
  return data.tree.filter((entry) => entry.type === "blob" && entry.path !== undefined && matchesGlob(entry.path, glob)).map((entry) => entry.path!).sort();
}
