import { shortSha } from "../../notify/format.ts";
import { readPullRequest } from "../pull-request.ts";
import { PASS, refuse, type Gate } from "./gate.ts";

/**
 * An approval is of the commit the approver can see: if the pull request the deployment came from is
 * open and its head has moved past the deployed commit, the approval is refused, so nobody approves a
 * commit they think is the reviewed head when newer commits have been pushed on top of it.
 */
export const unmovedHeadGate: Gate = {
  name: "unmoved head",
  async check({ octokit, controller, repo, environment }) {
    const running = (await controller.status(repo)).find((status) => status.environment === environment)?.running;
    if (!running || running.pullRequest === null) return PASS;
    const pullRequest = await readPullRequest(octokit, repo, running.pullRequest);
    if (pullRequest.state !== "open" || pullRequest.headSha === running.sha) return PASS;
    const deployed = shortSha(running.sha);
    return refuse(
      unmovedHeadGate,
      `the head of #${pullRequest.number} moved to ${shortSha(pullRequest.headSha)} after ${deployed} was deployed for approval; the deployment would not ship the pull request as it is now.`,
      `/abort ${environment}, then /deploy ${environment} again to ship the new head.`,
    );
  },
};
