import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import { ServerEnvError } from "../config/server-env.ts";

/**
 * The operator's mapping of Slack users to GitHub users (`GANTRY_SLACK_IDENTITIES_FILE`), YAML:
 * `U024BE7LH: octocat`. Read once at start-up (a bad file stops Gantry, naming the fault); a
 * repository's config can never add to it.
 */
const identityFileSchema = z.record(
  z.string().regex(/^[UW][A-Z0-9]{2,}$/, "keys must be Slack user ids such as U024BE7LH"),
  z.string().regex(/^[A-Za-z0-9-]{1,39}$/, "values must be GitHub logins"),
);

export function readIdentityFile(path: string): ReadonlyMap<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ServerEnvError(`GANTRY_SLACK_IDENTITIES_FILE cannot be read: ${(error as Error).message}`);
  }
  const parsed = identityFileSchema.safeParse(parse(text) ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ServerEnvError(`GANTRY_SLACK_IDENTITIES_FILE: ${issue.path.join(".") || "the file"} ${issue.message}`);
  }
  return new Map(Object.entries(parsed.data));
}
