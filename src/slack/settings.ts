import type { ServerEnv } from "../config/server-env.ts";
import type { GitHubOAuthClient } from "./github-oauth.ts";

/** GitHub sends people back here after they authorise the app for `/gantry link`. */
export const LINK_CALLBACK_PATH = "/slack/link/callback";

export interface SlackSettings {
  signingSecret: string;
  botToken: string;
  apiUrl: string;
  githubWebUrl: string;
  /** Linking through GitHub's user authorisation; absent: only the operator's file links people. */
  oauth: GitHubOAuthClient | undefined;
  identitiesFile: string | undefined;
}

/** Slack's settings, or null when Slack is off (no signing secret and bot token). */
export function slackSettings(env: ServerEnv): SlackSettings | null {
  if (!env.SLACK_SIGNING_SECRET || !env.SLACK_BOT_TOKEN) return null;
  const oauth =
    env.GITHUB_CLIENT_ID && env.GITHUB_CLIENT_SECRET && env.GANTRY_PUBLIC_URL
      ? {
          clientId: env.GITHUB_CLIENT_ID,
          clientSecret: env.GITHUB_CLIENT_SECRET,
          webUrl: env.GITHUB_WEB_URL,
          apiUrl: env.GITHUB_API_URL,
          redirectUri: new URL(LINK_CALLBACK_PATH, env.GANTRY_PUBLIC_URL).href,
        }
      : undefined;
  return { signingSecret: env.SLACK_SIGNING_SECRET, botToken: env.SLACK_BOT_TOKEN, apiUrl: env.SLACK_API_URL, githubWebUrl: env.GITHUB_WEB_URL, oauth, identitiesFile: env.GANTRY_SLACK_IDENTITIES_FILE };
}
