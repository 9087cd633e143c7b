import type { RepoRef } from "../../deploy/api.ts";
import type { Octokit } from "../github.ts";
import type { PermissionCache } from "../permission-cache.ts";
import { PASS, refuse, type Gate } from "./gate.ts";

const RANK: Record<string, number> = { none: 0, read: 1, triage: 2, write: 3, maintain: 4, admin: 5 };

/**
 * `login`'s role on the repository, from the cache when looked up within its period: `role_name`
 * tells maintain and triage apart; `permission` folds them into write and read.
 */
function roleOf(octokit: Octokit, permissions: PermissionCache, repo: RepoRef, login: string): Promise<string> {
  return permissions.roleOf(repo, login, async () => {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner: repo.owner, repo: repo.repo, username: login });
    return data.role_name in RANK ? data.role_name : data.permission;
  });
}

/** Whether `role` is below write, the least any environment's `deployers.permission` asks. */
export function belowWrite(role: string): boolean {
  return (RANK[role] ?? 0) < RANK.write!;
}

export async function hasWriteAccess(octokit: Octokit, permissions: PermissionCache, repo: RepoRef, login: string): Promise<boolean> {
  return !belowWrite(await roleOf(octokit, permissions, repo, login));
}

/** Whether `login` may read the repository: what `/gantry status` in Slack asks before showing it. */
export async function hasReadAccess(octokit: Octokit, permissions: PermissionCache, repo: RepoRef, login: string): Promise<boolean> {
  return (RANK[await roleOf(octokit, permissions, repo, login)] ?? 0) >= RANK.read!;
}

/** The commenter's permission on the repository is at least the environment's `deployers.permission`. */
export const permissionGate: Gate = {
  name: "permission",
  async check({ octokit, permissions, repo, actor, environment, environmentConfig }) {
    const held = await roleOf(octokit, permissions, repo, actor);
    const needed = environmentConfig.deployers.permission;
    if ((RANK[held] ?? 0) >= RANK[needed]!) return PASS;
    return refuse(
      permissionGate,
      `@${actor} has ${held} access to ${repo.owner}/${repo.repo}; ${environment} needs ${needed} or more.`,
      `Ask a repository admin for ${needed} access, or ask someone who has it to run the command.`,
    );
  },
};
