import { PASS, refuse, type Gate } from "./gate.ts";

/** A closed or merged pull request deploys nothing: its head is no longer what anyone reviews. */
export const openPullRequestGate: Gate = {
  name: "open pull request",
  async check({ pullRequest, defaultBranch }) {
    if (!pullRequest || pullRequest.state === "open") return PASS;
    if (pullRequest.merged) {
      return refuse(
        openPullRequestGate,
        `#${pullRequest.number} is merged; merged pull requests cannot deploy.`,
        `Deploy the merged commit: comment /deploy --sha <commit> on an open pull request or an issue, naming a commit of ${defaultBranch}.`,
      );
    }
    return refuse(openPullRequestGate, `#${pullRequest.number} is closed; closed pull requests cannot deploy.`, "Reopen the pull request, then comment again.");
  },
};
