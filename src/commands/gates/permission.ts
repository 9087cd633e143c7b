import { PASS, refuse, type Gate } from "./gate.ts";

const RANK: Record<string, number> = { none: 0, read: 1, triage: 2, write: 3, maintain: 4, admin: 5 };

/** The commenter's permission on the repository is at least the environment's `deployers.permission`. */
export const permissionGate: Gate = {
  name: "permission",
  async check({ octokit, repo, actor, environment, environmentConfig }) {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner: repo.owner, repo: repo.repo, username: actor });
    // `role_name` tells maintain and triage apart; `permission` folds them into write and read.
    const held = data.role_name in RANK ? data.role_name : data.permission;
    const needed = environmentConfig.deployers.permission;
    if ((RANK[held] ?? 0) >= RANK[needed]!) return PASS;
    return refuse(
      permissionGate,
      `@${actor} has ${held} access to ${repo.owner}/${repo.repo}; ${environment} needs ${needed} or more.`,
      `Ask a repository admin for ${needed} access, or ask someone who has it to run the command.`,
    );
  },
};
