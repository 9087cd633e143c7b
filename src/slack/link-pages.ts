import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "probot";
import type { Routes } from "../web/http-server.ts";
import { authorizeUrl, githubUserOf, type GitHubOAuthClient } from "./github-oauth.ts";
import type { SlackIdentities } from "./identity-store.ts";

export const LINK_PATH = "/slack/link";
import { LINK_CALLBACK_PATH } from "./settings.ts";
const CONFIRM_PATH = "/slack/link/confirm";

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(response: ServerResponse, status: number, title: string, body: string): void {
  const html = `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
  // The confirm form posts back to Gantry alone; nothing here may be framed by another site.
  response
    .writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "x-frame-options": "DENY", "content-security-policy": "default-src 'none'; form-action 'self'" })
    .end(html);
}

const SPENT = "<p>This link was used already or has expired. Run <code>/gantry link</code> in Slack for a new one.</p>";

async function formBody(request: IncomingMessage): Promise<URLSearchParams> {
  let text = "";
  for await (const chunk of request) {
    text += String(chunk);
    if (text.length > 4_096) break;
  }
  return new URLSearchParams(text);
}

/**
 * The web half of `/gantry link`: the one-time URL sends the person to GitHub to authorise the app
 * (OAuth web flow, the token as `state`), GitHub sends them back with a code, and a page asks them
 * to confirm that this Slack user may act as this GitHub user. Only the confirmation stores the pair,
 * so a link sent to someone else links nothing unless they read and confirm it.
 */
export function linkPages(options: { identities: SlackIdentities; oauth: GitHubOAuthClient; log: Logger }): Routes {
  const { identities, oauth, log } = options;
  return {
    [`GET ${LINK_PATH}`]: async (request, response) => {
      const token = new URL(request.url ?? "/", "http://gantry").searchParams.get("token") ?? "";
      if (!(await identities.pendingLink(token))) return page(response, 410, "Link expired", SPENT);
      response.writeHead(302, { location: authorizeUrl(oauth, token), "cache-control": "no-store" }).end();
    },
    [`GET ${LINK_CALLBACK_PATH}`]: async (request, response) => {
      const query = new URL(request.url ?? "/", "http://gantry").searchParams;
      const token = query.get("state") ?? "";
      const pending = await identities.pendingLink(token);
      if (!pending) return page(response, 410, "Link expired", SPENT);
      const code = query.get("code");
      if (!code) return page(response, 400, "Not authorised", "<p>GitHub did not authorise the app. Run <code>/gantry link</code> in Slack to try again.</p>");
      let github: { login: string; id: number };
      try {
        github = await githubUserOf(oauth, code);
      } catch (error) {
        log.warn({ err: error }, "slack: GitHub authorisation for a link failed");
        return page(response, 502, "GitHub did not answer", "<p>GitHub could not confirm who you are. Run <code>/gantry link</code> in Slack to try again.</p>");
      }
      if (!(await identities.authorised(token, github))) return page(response, 410, "Link expired", SPENT);
      const question = `<p>Slack user <strong>${escapeHtml(pending.slackUserName)}</strong> asks to act as GitHub user <strong>${escapeHtml(github.login)}</strong> in Gantry: their approvals and rollbacks in Slack will count as yours.</p><p>Confirm only if you asked for this link in Slack yourself.</p>`;
      const form = `<form method="post" action="${CONFIRM_PATH}"><input type="hidden" name="token" value="${escapeHtml(token)}"><button type="submit">Link ${escapeHtml(pending.slackUserName)} to ${escapeHtml(github.login)}</button></form>`;
      page(response, 200, "Link your accounts?", question + form);
    },
    [`POST ${CONFIRM_PATH}`]: async (request, response) => {
      const token = (await formBody(request)).get("token") ?? "";
      const linked = await identities.confirm(token);
      if (!linked) return page(response, 410, "Link expired", SPENT);
      log.info({ slackUser: linked.request.slackUserId, github: linked.githubLogin }, "slack: identity linked");
      page(response, 200, "Linked", `<p>Slack user ${escapeHtml(linked.request.slackUserName)} now acts as GitHub user ${escapeHtml(linked.githubLogin)}. <code>/gantry unlink</code> undoes it.</p>`);
    },
  };
}
