import type { z } from "zod";
import { quoteUserText } from "../notify/public-text.ts";
import { repoConfigSchemaWithin, type AwsAccountIds } from "./aws-accounts.ts";
import { parseConfigYaml } from "./parse-config-yaml.ts";
import { REPO_CONFIG_PATH, RETIRED_SETTINGS, type RepoConfig } from "./repo-config.ts";

/**
 * Checks the files of a configuration (the first is the repository's own, or the organisation's
 * `.github` one; then the files `_extends` names) as Probot's config loader would merge them: each
 * parsed within bounds, the merge validated. Pure and synchronous, so it can run in a worker thread
 * (parse-config-off-thread.ts); it asks for the next file when `_extends` names one not read yet.
 */

export interface ConfigProblem {
  /** Dotted path of the setting at fault, e.g. `environments.production.strategy`. */
  setting: string;
  line: number;
  message: string;
}

/** `problems`: the first MAX_LISTED_PROBLEMS, each at its line; `total`: how many there are. */
export type CheckedConfig = { status: "valid"; config: RepoConfig } | { status: "invalid"; problems: ConfigProblem[]; total: number };

export interface ConfigFile {
  owner: string;
  repo: string;
  path: string;
}

export interface ConfigFiles {
  /** Read so far, in chain order; a null text (no such file) ends the chain. */
  files: { file: ConfigFile; text: string | null }[];
  /** The first file is the repository's own (its lines are the ones problems point at). */
  ownIsFirst: boolean;
  awsAccountIds?: AwsAccountIds;
}

export type ConfigFilesCheck = { kind: "read"; file: ConfigFile } | { kind: "checked"; result: CheckedConfig };

/** Problems listed with their lines; a file with thousands of unknown keys gets "and N more". */
export const MAX_LISTED_PROBLEMS = 50;
/** Files `_extends` may chain through, the first included. */
const MAX_CONFIG_FILES = 5;
/** `repo`, `owner/repo` or `owner/repo:path.yml`, as Probot's config loader reads `_extends`. */
const EXTENDS = /^(?:([a-z\d](?:[a-z\d]|-(?=[a-z\d])){0,38})\/)?([-_.\w\d]+)(?::([-_./\w\d]+\.ya?ml))?$/iu;

export function checkConfigFiles({ files, ownIsFirst, awsAccountIds }: ConfigFiles): ConfigFilesCheck {
  const [first] = files;
  if (!first || first.text === null) throw new Error("checkConfigFiles needs the first file's text");
  const parsed = parseConfigYaml(first.text);
  if (!parsed.ok) return invalid(ownIsFirst ? parsed.problem : inFile(first.file, parsed.problem));
  // Problems elsewhere than the repository's own file point at its `_extends`, or its first line.
  const lineOf = ownIsFirst ? parsed.lineOf : () => 1;
  const atExtends = (message: string) => invalid({ setting: "_extends", line: lineOf(["_extends"]), message });
  const configs: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  let current = { file: first.file, config: parsed.value };
  for (let index = 1; ; index++) {
    const { _extends: extendsValue, ...settings } = current.config;
    configs.push(settings);
    seen.add(nameOf(current.file));
    if (extendsValue === undefined) break;
    const match = typeof extendsValue === "string" ? EXTENDS.exec(extendsValue) : null;
    if (!match) return atExtends(`must name the file to extend as \`repo\`, \`owner/repo\` or \`owner/repo:path.yml\`, not ${quoteUserText(JSON.stringify(extendsValue) ?? String(extendsValue))}`);
    const next = { owner: match[1] ?? current.file.owner, repo: match[2]!, path: match[3] ?? REPO_CONFIG_PATH };
    if (seen.has(nameOf(next))) return atExtends(`${nameOf(next)} is already part of this configuration: \`_extends\` goes round in a circle`);
    if (seen.size >= MAX_CONFIG_FILES) return atExtends(`extends more than ${MAX_CONFIG_FILES - 1} files deep; extend one shared file`);
    const read = files[index];
    if (!read) return { kind: "read", file: next };
    if (read.text === null) break;
    const extended = parseConfigYaml(read.text);
    if (!extended.ok) return atExtends(inFile(next, extended.problem).message);
    current = { file: next, config: extended.value };
  }
  const merged = Object.assign({}, ...configs.reverse()) as unknown;
  const result = repoConfigSchemaWithin(awsAccountIds).safeParse(merged);
  if (result.success) return { kind: "checked", result: { status: "valid", config: result.data } };
  return { kind: "checked", result: { status: "invalid", ...problemsAt(result.error.issues, lineOf) } };
}

function invalid(problem: ConfigProblem): ConfigFilesCheck {
  return { kind: "checked", result: { status: "invalid", problems: [problem], total: 1 } };
}

function nameOf(file: ConfigFile): string {
  return `${file.owner}/${file.repo}:${file.path}`;
}

function inFile(file: ConfigFile, problem: ConfigProblem): ConfigProblem {
  return { ...problem, line: 1, message: `In ${nameOf(file)}, line ${problem.line}: ${problem.message}` };
}

/** Maps zod issues to the line of the YAML source that holds (or should hold) each setting. */
export function locateIssues(issues: readonly z.core.$ZodIssue[], source: string, max = Infinity): ConfigProblem[] {
  const parsed = parseConfigYaml(source);
  return problemsAt(issues, parsed.ok ? parsed.lineOf : () => 1, max).problems;
}

/**
 * One problem per issue, and per key of an unknown-keys issue, counted all; only the first `max` are
 * written out and looked up (each lookup is a few map reads in the setting index).
 */
function problemsAt(issues: readonly z.core.$ZodIssue[], lineOf: (path: readonly PropertyKey[]) => number, max = MAX_LISTED_PROBLEMS): { problems: ConfigProblem[]; total: number } {
  const problems: ConfigProblem[] = [];
  let total = 0;
  for (const issue of issues) {
    const keys = issue.code === "unrecognized_keys" ? issue.keys : [undefined];
    total += keys.length;
    for (const key of keys.slice(0, Math.max(0, max - problems.length))) {
      const path = key === undefined ? issue.path : [...issue.path, key];
      const setting = path.map(String).join(".") || "(top level)";
      const message =
        key === undefined
          ? issue.message
          : (RETIRED_SETTINGS[path.slice(-2).join(".")] ?? `"${key}" is not a setting here; check its spelling and indentation`);
      problems.push({ setting, line: lineOf(path), message });
    }
  }
  return { problems, total };
}
