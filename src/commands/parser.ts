import { commandSchema, isCommandName, USAGE, type Command, type CommandName } from "./command.ts";

/**
 * The comment grammar. Only the first non-blank line of a comment can be a command, and only when it
 * starts with `/`: quoted text (`> /deploy`), fenced code and indented code (four spaces or a tab,
 * as Markdown reads it) are never commands. Unknown `/words` belong to other bots and are ignored.
 */
export type ParseResult =
  | { kind: "none" }
  | { kind: "command"; command: Command }
  | { kind: "invalid"; name: CommandName; problem: string; usage: string };

interface Token {
  text: string;
  quoted: boolean;
  /** Offset in the argument text, so `--reason` can take the rest of the line verbatim. */
  start: number;
  /** Written as `--flag=value`: a value, whatever it looks like. */
  attached?: boolean;
}

interface FlagSpec {
  key: string;
  /** What the value is, for "needs …" messages; absent for a switch. */
  value?: string;
  /** An unquoted value runs to the end of the line. */
  rest?: boolean;
  lowerCase?: boolean;
}

const ID_FLAG: Record<string, FlagSpec> = { "--id": { key: "id", value: "a deployment id, as /status shows it", lowerCase: true } };
const REASON_FLAG: Record<string, FlagSpec> = { "--reason": { key: "reason", value: 'a reason, e.g. --reason "release freeze"', rest: true } };

const FLAGS: Partial<Record<CommandName, Record<string, FlagSpec>>> = {
  deploy: { "--sha": { key: "sha", value: "a commit SHA", lowerCase: true }, "--dry-run": { key: "dryRun" }, "--force": { key: "force" } },
  rollback: ID_FLAG,
  promote: ID_FLAG,
  abort: ID_FLAG,
  approve: ID_FLAG,
  lock: REASON_FLAG,
  "ack-drift": REASON_FLAG,
};

const DEFAULTS: Partial<Record<CommandName, Record<string, unknown>>> = {
  deploy: { environment: null, sha: null, dryRun: false, force: false },
  rollback: { environment: null, id: null },
  promote: { environment: null, id: null },
  abort: { environment: null, id: null },
  approve: { environment: null, id: null },
  lock: { reason: null },
  "ack-drift": { reason: null },
};

/** Commands that need an environment, and what to say when it is missing. */
const ENVIRONMENT_REQUIRED: Partial<Record<CommandName, string>> = {
  lock: "name the environment to lock",
  unlock: "name the environment to unlock",
  "ack-drift": "name the environment whose drift you acknowledge",
};
const TAKES_REASON: ReadonlySet<CommandName> = new Set(["lock", "ack-drift"]);
const NO_ARGUMENTS: ReadonlySet<CommandName> = new Set(["status", "help"]);
const QUOTE_PAIRS: Record<string, string> = { '"': '"', "“": "”" };
const NONE: ParseResult = { kind: "none" };

/** The first non-blank line: the only one that can hold a command. */
export function commandLine(body: string): string | undefined {
  return body.split(/\r\n|\r|\n/).find((line) => line.trim() !== "");
}

export function parseComment(body: string): ParseResult {
  const firstLine = commandLine(body);
  const match = firstLine === undefined ? null : /^ {0,3}\/([A-Za-z]+(?:-[A-Za-z]+)*)(?=\s|$)(.*)$/u.exec(firstLine);
  if (!match) return NONE;
  const name = match[1]!.toLowerCase();
  if (!isCommandName(name)) return NONE;
  const invalid = (problem: string): ParseResult => ({ kind: "invalid", name, problem, usage: USAGE[name] });

  const argumentText = match[2]!;
  const tokens = tokenize(argumentText);
  if (typeof tokens === "string") return invalid(tokens);
  const fields = readArguments(name, tokens, argumentText);
  if (typeof fields === "string") return invalid(fields);
  const parsed = commandSchema.safeParse({ name, ...DEFAULTS[name], ...fields });
  return parsed.success ? { kind: "command", command: parsed.data } : invalid(parsed.error.issues[0]!.message);
}

/** Words separated by white space; `"…"` or `“…”` is one token; `--flag=value` is two. */
function tokenize(text: string): Token[] | string {
  const tokens: Token[] = [];
  let at = 0;
  while (at < text.length) {
    const char = text[at]!;
    const attached = text[at - 1] === "=" && tokens.at(-1)?.text.startsWith("--") === true ? { attached: true } : {};
    if (/\s/u.test(char)) {
      at += 1;
    } else if (QUOTE_PAIRS[char]) {
      const end = text.indexOf(QUOTE_PAIRS[char], at + 1);
      if (end === -1) return "a quotation mark is not closed";
      tokens.push({ text: text.slice(at + 1, end), quoted: true, start: at, ...attached });
      at = end + 1;
    } else {
      const start = at;
      const isFlag = text.startsWith("--", at);
      while (at < text.length && !/\s/u.test(text[at]!) && !(isFlag && text[at] === "=")) at += 1;
      tokens.push({ text: text.slice(start, at), quoted: false, start, ...attached });
      if (text[at] === "=") at += 1;
    }
  }
  return tokens;
}

function readArguments(name: CommandName, tokens: Token[], argumentText: string): Record<string, unknown> | string {
  if (NO_ARGUMENTS.has(name)) return tokens.length === 0 ? {} : `/${name} takes no arguments`;
  const fields: Record<string, unknown> = {};
  const positional: Token[] = [];
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index]!;
    if (token.quoted || !token.text.startsWith("--")) {
      positional.push(token);
      continue;
    }
    const flag = token.text.toLowerCase();
    const spec = FLAGS[name]?.[flag];
    if (!spec) return `unknown option "${token.text}"`;
    if (spec.key in fields) return `${flag} is given twice`;
    if (spec.value === undefined) {
      if (tokens[index + 1]?.attached) return `${flag} takes no value`;
      fields[spec.key] = true;
      continue;
    }
    const value = tokens[index + 1];
    if (!value || (!value.quoted && value.text.startsWith("--"))) return `${flag} needs ${spec.value}`;
    if (spec.rest && !value.quoted) {
      fields[spec.key] = argumentText.slice(value.start).trim();
      break;
    }
    fields[spec.key] = spec.lowerCase ? value.text.toLowerCase() : value.text;
    index += 1;
  }
  const extra = positional[1];
  if (extra) return `unexpected "${extra.text}": ${TAKES_REASON.has(name) ? 'give a reason with --reason "…"' : "name one environment at most"}`;
  if (positional[0]) fields.environment = positional[0].text.toLowerCase();
  else if (ENVIRONMENT_REQUIRED[name]) return ENVIRONMENT_REQUIRED[name];
  return fields;
}
