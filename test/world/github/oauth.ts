// GitHub's OAuth web application flow for a GitHub App's user authorisation: the authorise page
// (signed in as the user named in `x-emulator-login`), the code exchange, and user tokens that
// `GET /user` answers for.
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { seedUser, type GithubState } from "./state.ts";

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
}

export const DEFAULT_OAUTH_CLIENT: OAuthClient = { clientId: "Iv1.gantrytest", clientSecret: "gantry-oauth-secret" };

/** The header naming who is signed in to the emulator's web pages (a browser's session on github.com). */
export const SIGNED_IN_HEADER = "x-emulator-login";

interface Grant {
  login: string;
  redirectUri: string;
  expiresAt: number;
}

interface WebAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const text = (status: number, body: string): WebAnswer => ({ status, headers: { "content-type": "text/plain" }, body });

export interface OAuthFlow {
  /** User tokens issued, token → login. */
  userTokens: Map<string, string>;
  /** Answers the flow's two web endpoints; undefined for any other path. */
  handle(method: string, url: URL, req: IncomingMessage, body: string): WebAnswer | undefined;
}

export function oauthFlow(st: GithubState, client: OAuthClient): OAuthFlow {
  const codes = new Map<string, Grant>();
  const userTokens = new Map<string, string>();
  const json = (data: unknown): WebAnswer => ({ status: 200, headers: { "content-type": "application/json; charset=utf-8" }, body: JSON.stringify(data) });
  return {
    userTokens,
    handle(method, url, req, body) {
      if (method === "GET" && url.pathname === "/login/oauth/authorize") {
        if (url.searchParams.get("client_id") !== client.clientId) return text(404, "Not Found");
        const login = req.headers[SIGNED_IN_HEADER];
        if (typeof login !== "string" || login === "") return text(401, "Sign in to GitHub to continue");
        const redirectUri = url.searchParams.get("redirect_uri") ?? "";
        if (!/^https?:\/\//.test(redirectUri)) return text(400, "The redirect_uri is not valid");
        seedUser(st, login);
        const code = randomBytes(10).toString("hex");
        codes.set(code, { login, redirectUri, expiresAt: Date.now() + 600_000 });
        const back = new URL(redirectUri);
        back.searchParams.set("code", code);
        const state = url.searchParams.get("state");
        if (state !== null) back.searchParams.set("state", state);
        return { status: 302, headers: { location: back.href }, body: "" };
      }
      if (method === "POST" && url.pathname === "/login/oauth/access_token") {
        const contentType = req.headers["content-type"] ?? "";
        const params = contentType.includes("json") ? new Map(Object.entries(JSON.parse(body || "{}") as Record<string, string>)) : new Map(new URLSearchParams(body));
        if (params.get("client_id") !== client.clientId || params.get("client_secret") !== client.clientSecret) return json({ error: "incorrect_client_credentials" });
        const code = String(params.get("code") ?? "");
        const grant = codes.get(code);
        // A code is good once, for ten minutes, with the redirect URI it was issued for (GitHub's rules).
        codes.delete(code);
        if (!grant || grant.expiresAt < Date.now()) return json({ error: "bad_verification_code" });
        const redirectUri = params.get("redirect_uri");
        if (redirectUri !== undefined && redirectUri !== grant.redirectUri) return json({ error: "redirect_uri_mismatch" });
        const token = `ghu_${randomBytes(18).toString("base64url")}`;
        userTokens.set(token, grant.login);
        return json({ access_token: token, token_type: "bearer", scope: "" });
      }
      return undefined;
    },
  };
}
