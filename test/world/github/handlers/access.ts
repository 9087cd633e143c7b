// Who may do what: the repository itself, collaborator permission and team membership.
import { type Handler, HttpError, found, repoOf } from "../http.ts";
import type { Permission } from "../state.ts";
import { repoView, userView } from "../views.ts";

// The legacy `permission` field folds the newer roles into admin / write / read / none.
const LEGACY: Record<Permission, string> = { admin: "admin", maintain: "write", write: "write", triage: "read", read: "read", none: "none" };

const RANKS: Permission[] = ["none", "read", "triage", "write", "maintain", "admin"];

export const accessHandlers: Record<string, Handler> = {
  "repos/get": (ctx) => ({ status: 200, data: repoView(ctx.baseUrl, repoOf(ctx)) }),
  "repos/get-collaborator-permission-level": (ctx) => {
    const repo = repoOf(ctx);
    const user = ctx.state.users.get(String(ctx.params.username).toLowerCase());
    if (!user) throw new HttpError(404, "Not Found");
    const role = repo.permissions.get(user.login.toLowerCase()) ?? "none";
    const rank = RANKS.indexOf(role);
    const permissions = { pull: rank >= 1, triage: rank >= 2, push: rank >= 3, maintain: rank >= 4, admin: rank >= 5 };
    return {
      status: 200,
      data: { permission: LEGACY[role], role_name: role, user: { ...userView(ctx.baseUrl, user), permissions, role_name: role } },
    };
  },
  "teams/get-membership-for-user-in-org": (ctx) => {
    const { org = "", team_slug: slug = "", username = "" } = ctx.params;
    const team = found(ctx.state.teams.get(`${org}/${slug}`.toLowerCase()));
    const member = found(team.members.get(username.toLowerCase()));
    return {
      status: 200,
      data: { role: member.role, state: member.state, url: `${ctx.baseUrl}/orgs/${org}/teams/${slug}/memberships/${username}` },
    };
  },
};
