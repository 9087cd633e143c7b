// Pull requests: get and list.
import { type Handler, found, intParam, repoOf } from "../http.ts";
import { pullView } from "../views.ts";

export const pullHandlers: Record<string, Handler> = {
  "pulls/get": (ctx) => {
    const repo = repoOf(ctx);
    return { status: 200, data: pullView(ctx.baseUrl, repo, found(repo.pulls.get(intParam(ctx, "pull_number")))) };
  },
  "pulls/list": (ctx) => {
    const repo = repoOf(ctx);
    const state = ctx.query.get("state") ?? "open";
    const head = ctx.query.get("head"); // "owner:branch"
    const base = ctx.query.get("base");
    const pulls = [...repo.pulls.values()]
      .filter((p) => state === "all" || p.state === state)
      .filter((p) => !head || `${repo.owner.login}:${p.head.ref}` === head)
      .filter((p) => !base || p.base.ref === base)
      .toSorted((a, b) => b.number - a.number);
    return { status: 200, list: { items: pulls.map((p) => pullView(ctx.baseUrl, repo, p)) } };
  },
};
