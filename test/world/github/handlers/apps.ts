// App authentication: installation tokens and the installation of a repository.
import { randomBytes } from "node:crypto";
import { type Handler, HttpError, repoOf } from "../http.ts";
import { APP_EVENTS, APP_PERMISSIONS, userView } from "../views.ts";
import type { Repo } from "../state.ts";

const installationView = (base: string, appId: number, slug: string, repo: Repo): Record<string, unknown> => ({
  id: repo.installationId,
  account: userView(base, repo.owner),
  app_id: appId,
  app_slug: slug,
  target_id: repo.owner.id,
  target_type: repo.owner.type === "Organization" ? "Organization" : "User",
  permissions: APP_PERMISSIONS,
  events: APP_EVENTS,
  repository_selection: "selected",
  access_tokens_url: `${base}/app/installations/${repo.installationId}/access_tokens`,
  repositories_url: `${base}/installation/repositories`,
  html_url: `${base}/settings/installations/${repo.installationId}`,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
});

export const appHandlers: Record<string, Handler> = {
  "apps/create-installation-access-token": (ctx) => {
    const id = Number(ctx.params.installation_id);
    if (![...ctx.state.repos.values()].some((r) => r.installationId === id)) throw new HttpError(404, "Not Found");
    const token = `ghs_${randomBytes(18).toString("base64url")}`;
    ctx.state.tokens.set(token, id);
    const expires = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, "Z");
    const permissions = (ctx.body.permissions as Record<string, string> | undefined) ?? APP_PERMISSIONS;
    return { status: 201, data: { token, expires_at: expires, permissions, repository_selection: "selected" } };
  },
  "apps/get-repo-installation": (ctx) => {
    const repo = repoOf(ctx);
    return { status: 200, data: installationView(ctx.baseUrl, ctx.state.appId, ctx.state.botUser.login.replace("[bot]", ""), repo) };
  },
};
