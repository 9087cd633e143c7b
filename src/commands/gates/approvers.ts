import { PASS, refuse, type Gate } from "./gate.ts";
import { describeList, isListed } from "./membership.ts";

/**
 * The approver is one of `approval.users` / `approval.teams` when those are set, and never the person
 * who requested the deployment (four eyes).
 */
export const approversGate: Gate = {
  name: "approvers",
  async check({ octokit, controller, repo, actor, environment, environmentConfig }) {
    const running = (await controller.status(repo)).find((status) => status.environment === environment)?.running;
    if (running && running.requestedBy.toLowerCase() === actor.toLowerCase()) {
      return refuse(approversGate, `@${actor} requested this deployment and cannot also approve it.`, "Ask a second person to /approve it.");
    }
    const { users, teams } = environmentConfig.approval;
    if (users.length === 0 && teams.length === 0) return PASS;
    if (await isListed(octokit, actor, users, teams)) return PASS;
    const allowed = describeList(users, teams);
    return refuse(approversGate, `Only ${allowed} may approve deployments to ${environment}.`, `Ask ${allowed} to /approve.`);
  },
};
