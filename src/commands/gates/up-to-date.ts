import { PASS, refuse, type Gate } from "./gate.ts";

/** The pull request's head contains every commit of its base branch. */
export const upToDateGate: Gate = {
  name: "up to date",
  async check({ octokit, repo, pullRequest, environment, sha }) {
    if (!pullRequest) {
      return refuse(upToDateGate, `${environment} deploys must come from a pull request that is up to date.`, "Run /deploy on the pull request.");
    }
    if (pullRequest.headSha !== sha) {
      // The review and the base comparison speak for the pull request's head, not for another commit.
      return refuse(upToDateGate, `${sha!.slice(0, 7)} is not the head of #${pullRequest.number}.`, "Deploy the pull request's head: /deploy without --sha.");
    }
    const { data } = await octokit.rest.repos.compareCommitsWithBasehead({
      owner: repo.owner,
      repo: repo.repo,
      basehead: `${pullRequest.baseRef}...${pullRequest.headSha}`,
      per_page: 1,
    });
    if (data.behind_by === 0) return PASS;
    const commits = data.behind_by === 1 ? "1 commit" : `${data.behind_by} commits`;
    return refuse(
      upToDateGate,
      `#${pullRequest.number} is ${commits} behind ${pullRequest.baseRef}.`,
      `Update the branch with ${pullRequest.baseRef} (merge or rebase), let the checks run, then comment again.`,
    );
  },
};
