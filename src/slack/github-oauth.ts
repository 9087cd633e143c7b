import { z } from "zod";

/** The GitHub App's OAuth client, and where GitHub's web and API hosts are. */
export interface GitHubOAuthClient {
  clientId: string;
  clientSecret: string;
  webUrl: string;
  apiUrl: string;
  /** Where GitHub sends the person back, with `code` and `state`. */
  redirectUri: string;
}

/** GitHub's authorisation page for the app (the web application flow's first step). */
export function authorizeUrl(client: GitHubOAuthClient, state: string): string {
  const url = new URL("/login/oauth/authorize", client.webUrl);
  url.searchParams.set("client_id", client.clientId);
  url.searchParams.set("redirect_uri", client.redirectUri);
  url.searchParams.set("state", state);
  // A GitHub App's user token needs no scope; the login is all Gantry reads with it.
  url.searchParams.set("allow_signup", "false");
  return url.href;
}

const tokenAnswer = z.union([z.object({ access_token: z.string().min(1) }), z.object({ error: z.string(), error_description: z.string().optional() })]);
const userAnswer = z.object({ login: z.string().min(1), id: z.number().int().positive() });

export class OAuthError extends Error {}

/**
 * Trades the code for a user token and asks GitHub who the user is. The token is used for that one
 * request and never stored: Gantry acts on GitHub with its own installation tokens, as the gates do.
 */
export async function githubUserOf(client: GitHubOAuthClient, code: string): Promise<{ login: string; id: number }> {
  const exchanged = await fetch(new URL("/login/oauth/access_token", client.webUrl), {
    method: "POST",
    headers: { accept: "application/json", "content-type": "application/json" },
    body: JSON.stringify({ client_id: client.clientId, client_secret: client.clientSecret, code, redirect_uri: client.redirectUri }),
    signal: AbortSignal.timeout(10_000),
  });
  const token = tokenAnswer.safeParse(await exchanged.json().catch(() => null));
  if (!exchanged.ok || !token.success) throw new OAuthError(`GitHub did not exchange the code (HTTP ${exchanged.status})`);
  if ("error" in token.data) throw new OAuthError(`GitHub refused the code: ${token.data.error}`);
  const answer = await fetch(new URL("user", client.apiUrl.endsWith("/") ? client.apiUrl : `${client.apiUrl}/`), {
    headers: { accept: "application/vnd.github+json", authorization: `Bearer ${token.data.access_token}` },
    signal: AbortSignal.timeout(10_000),
  });
  const user = userAnswer.safeParse(await answer.json().catch(() => null));
  if (!answer.ok || !user.success) throw new OAuthError(`GitHub did not say who authorised the app (HTTP ${answer.status})`);
  return user.data;
}
