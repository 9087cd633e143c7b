/**
 * What Gantry may show in public places (PR comments, Deployment statuses, check runs): errors cut to
 * their name and a short message without ARNs or account ids, and people's own words quoted so they
 * cannot mention anyone or break the Markdown around them. Full texts go to the server log and the
 * audit log only.
 */

import { cutText } from "../log/bounded-log.ts";

const ARN = /\barn:aws[a-z-]*:[^\s"'`,;()<>[\]]*/giu;
const ACCOUNT_ID = /(?<![\da-f])\d{12}(?![\da-f])/giu;
const ERROR_MESSAGE_LENGTH = 160;
const USER_TEXT_LENGTH = 80;
/** Joins `@` to what follows without a visible mark, so GitHub sees no mention. */
const ZERO_WIDTH_JOINER = "\u200D";

/** One line, cut on a character boundary (never half a surrogate pair). */
function excerpt(text: string, max: number): string {
  return cutText(text.replace(/\s+/gu, " ").trim(), max);
}

/** Removes ARNs and account ids from a text written by AWS or by Gantry about AWS, and cuts it short. */
export function publicText(text: string, max = ERROR_MESSAGE_LENGTH): string {
  return excerpt(text.replace(ARN, "(ARN)").replace(ACCOUNT_ID, "(account)"), max);
}

/** `AccessDeniedException: User is not authorized to perform …`, without ARNs or account ids. */
export function publicErrorText(error: unknown): string {
  if (!(error instanceof Error)) return publicText(String(error));
  const name = error.name && error.name !== "Error" ? `${error.name}: ` : "";
  return publicText(`${name}${error.message}`);
}

/**
 * Someone's own words (a command line, a lock reason) as an inline code span: one line, cut short,
 * every `@` joined so it mentions nobody, and a fence longer than any backtick run inside so the
 * text cannot close it. `|` would end a table cell even inside code, so it becomes `¦`.
 */
export function quoteUserText(text: string, max = USER_TEXT_LENGTH): string {
  const quoted = excerpt(text, max).replaceAll("@", `@${ZERO_WIDTH_JOINER}`).replaceAll("|", "¦");
  const longestRun = Math.max(0, ...[...quoted.matchAll(/`+/gu)].map((run) => run[0].length));
  const fence = "`".repeat(longestRun + 1);
  const padded = quoted.startsWith("`") || quoted.endsWith("`") || quoted === "" ? ` ${quoted} ` : quoted;
  return `${fence}${padded}${fence}`;
}
