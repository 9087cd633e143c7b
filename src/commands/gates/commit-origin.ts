import { PASS, refuse, type Gate } from "./gate.ts";

/**
 * The commit deployed belongs to this repository: it is on the default branch, or it is the head of
 * an open pull request whose branch lives here. A `--sha` naming a fork's commit (which GitHub serves
 * from the base repository too) is refused, whatever pull request the command was typed on.
 */
export const commitOriginGate: Gate = {
  name: "commit origin",
  async check({ octokit, repo, sha, shaNamed, pullRequest, defaultBranch }) {
    // Without --sha the commit is the head of the pull request commented on: the fork gate's case.
    if (!shaNamed && pullRequest) return PASS;
    const commit = sha!;
    const { data: comparison } = await octokit.rest.repos.compareCommitsWithBasehead({
      owner: repo.owner,
      repo: repo.repo,
      basehead: `${defaultBranch}...${commit}`,
      per_page: 1,
    });
    if (comparison.status === "identical" || comparison.status === "behind") return PASS;
    const { data: pulls } = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({ owner: repo.owner, repo: repo.repo, commit_sha: commit });
    const fullName = `${repo.owner}/${repo.repo}`.toLowerCase();
    const headOfOpen = pulls.some((pull) => pull.state === "open" && pull.head.sha === commit && pull.head.repo?.full_name.toLowerCase() === fullName);
    if (headOfOpen) return PASS;
    return refuse(
      commitOriginGate,
      `${commit.slice(0, 7)} is neither on ${defaultBranch} nor the head of an open pull request from a branch of ${repo.owner}/${repo.repo}.`,
      `Deploy a commit of ${defaultBranch}, or the head of an open pull request whose branch is in ${repo.owner}/${repo.repo}.`,
    );
  },
};
