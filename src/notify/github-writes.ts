import type { ProbotOctokit } from "probot";
import {
  fitCheckRunOutput,
  fitCommentBody,
  fitDeploymentStatusDescription,
  type CheckRunAnnotation,
  type CheckRunOutput,
  type CommentText,
} from "./github-limits.ts";
import type { CheckRunState, DeploymentState } from "./github-states.ts";

/**
 * The only calls that write text to GitHub (comments, check runs, Deployment statuses): each fits its
 * text to GitHub's limits first. Calling Octokit's write methods directly elsewhere is a lint error
 * (eslint.config.js), so a new reply cannot skip the limits.
 */

type Octokit = InstanceType<typeof ProbotOctokit>;
type Repo = { owner: string; repo: string };
/** A button on a check run; GitHub sends `check_run.requested_action` with its identifier when pressed. */
export interface CheckRunAction {
  label: string;
  description: string;
  identifier: string;
}
type CheckRunUpdate = Partial<CheckRunState> & { details_url?: string; actions?: CheckRunAction[] };
type CheckRunCreate = CheckRunUpdate & { name: string; head_sha: string; external_id?: string };
interface DeploymentStatus {
  deployment_id: number;
  state: DeploymentState;
  log_url?: string;
  auto_inactive?: boolean;
}

export async function createComment(octokit: Octokit, at: Repo & { issue_number: number }, text: CommentText): Promise<{ id: number }> {
  const { data } = await octokit.rest.issues.createComment({ ...at, body: fitCommentBody(text) });
  return { id: data.id };
}

export async function updateComment(octokit: Octokit, at: Repo & { comment_id: number }, text: CommentText): Promise<void> {
  await octokit.rest.issues.updateComment({ ...at, body: fitCommentBody(text) });
}

/** `seeAllAt` completes "see all of it …" for a text too long for GitHub. Creates a check run; annotations past the first 50 follow in updates of the same run. */
export async function createCheckRun(
  octokit: Octokit,
  at: Repo,
  run: CheckRunCreate,
  output: CheckRunOutput,
  seeAllAt: string,
): Promise<{ id: number; html_url: string | null }> {
  const fitted = fitCheckRunOutput(output, seeAllAt);
  const { data } = await octokit.rest.checks.create({ ...at, ...run, output: fitted.output });
  await addAnnotations(octokit, { ...at, check_run_id: data.id }, fitted.output, fitted.laterAnnotations);
  return { id: data.id, html_url: data.html_url };
}

export async function updateCheckRun(
  octokit: Octokit,
  at: Repo & { check_run_id: number },
  run: CheckRunUpdate,
  output: CheckRunOutput,
  seeAllAt: string,
): Promise<void> {
  const fitted = fitCheckRunOutput(output, seeAllAt);
  await octokit.rest.checks.update({ ...at, ...run, output: fitted.output });
  await addAnnotations(octokit, at, fitted.output, fitted.laterAnnotations);
}

async function addAnnotations(octokit: Octokit, at: Repo & { check_run_id: number }, output: CheckRunOutput, batches: CheckRunAnnotation[][]): Promise<void> {
  for (const annotations of batches) {
    await octokit.rest.checks.update({ ...at, output: { title: output.title, summary: output.summary, annotations } });
  }
}

export async function createDeploymentStatus(octokit: Octokit, at: Repo, status: DeploymentStatus, description: string): Promise<void> {
  await octokit.rest.repos.createDeploymentStatus({ ...at, ...status, description: fitDeploymentStatusDescription(description) });
}
