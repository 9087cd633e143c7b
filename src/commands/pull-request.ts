import type { RepoRef } from "../deploy/api.ts";
import type { Octokit } from "./github.ts";

/** What the gates need to know about the pull request a command was typed on. */
export interface PullRequestFacts {
  number: number;
  state: "open" | "closed";
  merged: boolean;
  author: string;
  headSha: string;
  /** `owner/repo` of the head; null when the fork was deleted. */
  headRepository: string | null;
  baseRepository: string;
  baseRef: string;
}

export async function readPullRequest(octokit: Octokit, repo: RepoRef, number: number): Promise<PullRequestFacts> {
  const { data } = await octokit.rest.pulls.get({ owner: repo.owner, repo: repo.repo, pull_number: number });
  return {
    number,
    state: data.state === "open" ? "open" : "closed",
    merged: data.merged,
    author: data.user.login,
    headSha: data.head.sha,
    headRepository: data.head.repo?.full_name ?? null,
    baseRepository: data.base.repo.full_name,
    baseRef: data.base.ref,
  };
}
