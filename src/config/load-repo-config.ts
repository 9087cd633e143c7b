import type { ProbotOctokit } from "probot";
import type { z } from "zod";
import { repoConfigSchemaWithin, type AwsAccountIds } from "./aws-accounts.ts";
import { quoteUserText } from "../notify/public-text.ts";
import { parseConfigYaml } from "./parse-config-yaml.ts";
import { REPO_CONFIG_PATH, RETIRED_SETTINGS, type RepoConfig } from "./repo-config.ts";

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface ConfigProblem {
  /** Dotted path of the setting at fault, e.g. `environments.production.strategy`. */
  setting: string;
  line: number;
  message: string;
}

export type RepoConfigResult =
  | { status: "absent" }
  | { status: "valid"; config: RepoConfig }
  | { status: "invalid"; problems: ConfigProblem[] };

export interface RepoRef {
  owner: string;
  repo: string;
  ref: string;
}

/** Files `_extends` may chain through, the repository's own included. */
const MAX_CONFIG_FILES = 5;
/** `repo`, `owner/repo` or `owner/repo:path.yml`, as Probot's config loader reads `_extends`. */
const EXTENDS = /^(?:([a-z\d](?:[a-z\d]|-(?=[a-z\d])){0,38})\/)?([-_.\w\d]+)(?::([-_./\w\d]+\.ya?ml))?$/iu;

interface ConfigFile {
  owner: string;
  repo: string;
  path: string;
}

/**
 * Reads `.github/gantry.yml` as Probot's config loader would (org-wide defaults from the `.github`
 * repository when the repository has none, `_extends` followed, the repository's own settings
 * winning), but parses each file itself with size, nesting and alias bounds (parse-config-yaml.ts),
 * then validates the merged result within the server's AWS account limit when one is given. Every bad
 * file is a problem with its line; never throws for one.
 */
export async function loadRepoConfig(octokit: Octokit, at: RepoRef, limits: { awsAccountIds?: AwsAccountIds } = {}): Promise<RepoConfigResult> {
  const own = { owner: at.owner, repo: at.repo, path: REPO_CONFIG_PATH };
  const ownText = await readConfigText(octokit, own, at.ref);
  let first: { file: ConfigFile; text: string } | undefined = ownText === null ? undefined : { file: own, text: ownText };
  if (!first && at.repo !== ".github") {
    const orgFile = { ...own, repo: ".github" };
    const orgText = await readConfigText(octokit, orgFile);
    if (orgText !== null) first = { file: orgFile, text: orgText };
  }
  if (!first) return { status: "absent" };
  const parsed = parseConfigYaml(first.text);
  // Problems elsewhere than the repository's own file point at its first line, or its `_extends`.
  const lineOf = parsed.ok && ownText !== null ? parsed.lineOf : () => 1;
  if (!parsed.ok) return invalid({ ...parsed.problem, ...(ownText === null ? inFile(first.file, parsed.problem) : {}) });
  const chain = await followExtends(octokit, first.file, parsed.value);
  if ("problem" in chain) return invalid({ ...chain.problem, line: lineOf(["_extends"]) });
  const merged = Object.assign({}, ...chain.configs.reverse()) as unknown;
  const result = repoConfigSchemaWithin(limits.awsAccountIds).safeParse(merged);
  if (result.success) return { status: "valid", config: result.data };
  return { status: "invalid", problems: problemsAt(result.error.issues, lineOf) };
}

function invalid(problem: ConfigProblem): RepoConfigResult {
  return { status: "invalid", problems: [problem] };
}

function inFile(file: ConfigFile, problem: ConfigProblem): ConfigProblem {
  return { ...problem, line: 1, message: `In ${file.owner}/${file.repo}:${file.path}, line ${problem.line}: ${problem.message}` };
}

/** The configs of the chain, the first file's first, each without its `_extends`. */
async function followExtends(
  octokit: Octokit,
  file: ConfigFile,
  config: Record<string, unknown>,
): Promise<{ configs: Record<string, unknown>[] } | { problem: ConfigProblem }> {
  const configs: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  let current: { file: ConfigFile; config: Record<string, unknown> } = { file, config };
  for (;;) {
    const { _extends: extendsValue, ...settings } = current.config;
    configs.push(settings);
    seen.add(`${current.file.owner}/${current.file.repo}:${current.file.path}`);
    if (extendsValue === undefined) return { configs };
    const match = typeof extendsValue === "string" ? EXTENDS.exec(extendsValue) : null;
    if (!match) {
      return { problem: { setting: "_extends", line: 1, message: `must name the file to extend as \`repo\`, \`owner/repo\` or \`owner/repo:path.yml\`, not ${quoteUserText(JSON.stringify(extendsValue) ?? String(extendsValue))}` } };
    }
    const next = { owner: match[1] ?? current.file.owner, repo: match[2]!, path: match[3] ?? REPO_CONFIG_PATH };
    const name = `${next.owner}/${next.repo}:${next.path}`;
    if (seen.has(name)) return { problem: { setting: "_extends", line: 1, message: `${name} is already part of this configuration: \`_extends\` goes round in a circle` } };
    if (seen.size >= MAX_CONFIG_FILES) return { problem: { setting: "_extends", line: 1, message: `extends more than ${MAX_CONFIG_FILES - 1} files deep; extend one shared file` } };
    const text = await readConfigText(octokit, next);
    if (text === null) return { configs };
    const parsed = parseConfigYaml(text);
    if (!parsed.ok) return { problem: { ...inFile(next, parsed.problem), setting: "_extends" } };
    current = { file: next, config: parsed.value };
  }
}

/** Maps zod issues to the line of the YAML source that holds (or should hold) each setting. */
export function locateIssues(issues: readonly z.core.$ZodIssue[], source: string): ConfigProblem[] {
  const parsed = parseConfigYaml(source);
  return problemsAt(issues, parsed.ok ? parsed.lineOf : () => 1);
}

/** One problem per issue, and per key of an unknown-keys issue; each line found in the setting index. */
function problemsAt(issues: readonly z.core.$ZodIssue[], lineOf: (path: readonly PropertyKey[]) => number): ConfigProblem[] {
  return issues.flatMap((issue) => {
    const paths =
      issue.code === "unrecognized_keys" ? issue.keys.map((key) => [...issue.path, key]) : [issue.path];
    return paths.map((path) => {
      const setting = path.map(String).join(".") || "(top level)";
      const message =
        issue.code === "unrecognized_keys"
          ? (RETIRED_SETTINGS[path.slice(-2).join(".")] ?? `"${String(path.at(-1))}" is not a setting here; check its spelling and indentation`)
          : issue.message;
      return { setting, line: lineOf(path), message };
    });
  });
}

/** The file's text, or null when there is none (a directory or submodule is none). No ref: the default branch. */
async function readConfigText(octokit: Octokit, file: ConfigFile, ref?: string): Promise<string | null> {
  try {
    const response = await octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
      ...file,
      ...(ref ? { ref } : {}),
      mediaType: { format: "raw" },
    });
    return typeof response.data === "string" ? response.data : null;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return null;
    throw error;
  }
}
