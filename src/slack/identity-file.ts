import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import { ServerEnvError } from "../config/server-env.ts";

/**
 * The operator's mapping of Slack users to GitHub users (`GANTRY_SLACK_IDENTITIES_FILE`), YAML:
 * `U024BE7LH: octocat`. Read once at start-up (a bad file stops Gantry, naming the fault); a
 * repository's config can never add to it.
 */
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;
const GITHUB_LOGIN = /^[A-Za-z0-9-]{1,39}$/;

export function readIdentityFile(path: string): ReadonlyMap<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ServerEnvError(`GANTRY_SLACK_IDENTITIES_FILE cannot be read: ${(error as Error).message}`);
  }
  const parsed = z.record(z.string(), z.string()).safeParse(parse(text) ?? {});
  if (!parsed.success) throw new ServerEnvError("GANTRY_SLACK_IDENTITIES_FILE must map Slack user ids to GitHub logins, one `U024BE7LH: octocat` a line");
  for (const [slackUser, login] of Object.entries(parsed.data)) {
    if (!SLACK_USER_ID.test(slackUser)) throw new ServerEnvError(`GANTRY_SLACK_IDENTITIES_FILE: ${slackUser} is not a Slack user id (such as U024BE7LH)`);
    if (!GITHUB_LOGIN.test(login)) throw new ServerEnvError(`GANTRY_SLACK_IDENTITIES_FILE: ${slackUser} maps to ${login}, which is not a GitHub login`);
  }
  return new Map(Object.entries(parsed.data));
}
