import { PASS, refuse, type Gate } from "./gate.ts";

/** `/deploy --force` goes over traffic changed outside Gantry: break glass, for repository admins only. */
export const breakGlassGate: Gate = {
  name: "break-glass",
  async check({ octokit, repo, actor, environment }) {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner: repo.owner, repo: repo.repo, username: actor });
    if (data.role_name === "admin" || data.permission === "admin") return PASS;
    return refuse(
      breakGlassGate,
      `--force deploys over traffic changed outside Gantry, and only a repository admin may use it; @${actor} has ${data.role_name} access.`,
      `Find out why ${environment}'s traffic changed, then \`/ack-drift ${environment}\` and deploy without --force; or ask a repository admin.`,
    );
  },
};
