import { PASS, refuse, type Gate } from "./gate.ts";

/** Code from a fork never deploys: its author has no write access to what it would run as. */
export const forkGate: Gate = {
  name: "no forks",
  async check({ pullRequest }) {
    if (!pullRequest || pullRequest.headRepository === pullRequest.baseRepository) return PASS;
    return refuse(
      forkGate,
      `#${pullRequest.number} comes from ${pullRequest.headRepository ?? "a deleted fork"}; pull requests from forks cannot deploy.`,
      `Push the branch to ${pullRequest.baseRepository} and deploy from a pull request there, or deploy the commit once it is merged.`,
    );
  },
};
