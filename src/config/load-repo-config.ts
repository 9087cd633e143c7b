import type { ProbotOctokit } from "probot";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import type { z } from "zod";
import { repoConfigSchemaWithin, type AwsAccountIds } from "./aws-accounts.ts";
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

/**
 * Reads `.github/gantry.yml` through Probot's config loader, so `_extends` and org-wide defaults in a
 * `.github` repository apply, and validates the merged result, within the server's AWS account limit
 * when one is given. Never throws for a bad file.
 */
export async function loadRepoConfig(octokit: Octokit, at: RepoRef, limits: { awsAccountIds?: AwsAccountIds } = {}): Promise<RepoConfigResult> {
  let merged: unknown;
  try {
    const { config, files } = await octokit.config.get({
      owner: at.owner,
      repo: at.repo,
      path: REPO_CONFIG_PATH,
      branch: at.ref,
    });
    if (files.every((file) => file.config === null)) return { status: "absent" };
    merged = config;
  } catch (error) {
    const problem = yamlSyntaxProblem(error);
    if (problem) return { status: "invalid", problems: [problem] };
    throw error;
  }
  const parsed = repoConfigSchemaWithin(limits.awsAccountIds).safeParse(merged);
  if (parsed.success) return { status: "valid", config: parsed.data };
  const source = await readRawConfig(octokit, at);
  return { status: "invalid", problems: locateIssues(parsed.error.issues, source) };
}

/** Maps zod issues to the line of the YAML source that holds (or should hold) each setting. */
export function locateIssues(issues: readonly z.core.$ZodIssue[], source: string): ConfigProblem[] {
  const lineCounter = new LineCounter();
  const document = parseDocument(source, { lineCounter });
  return issues.flatMap((issue) => {
    const paths =
      issue.code === "unrecognized_keys" ? issue.keys.map((key) => [...issue.path, key]) : [issue.path];
    return paths.map((path) => {
      const setting = path.map(String).join(".") || "(top level)";
      const message =
        issue.code === "unrecognized_keys"
          ? (RETIRED_SETTINGS[path.slice(-2).join(".")] ?? `"${String(path.at(-1))}" is not a setting here; check its spelling and indentation`)
          : issue.message;
      return { setting, line: lineCounter.linePos(offsetOf(document.contents, path)).line, message };
    });
  });
}

/** Start offset of the deepest node on `path` that exists: a missing key points at its parent. */
function offsetOf(root: unknown, path: readonly PropertyKey[]): number {
  let node = root as Node | null;
  let offset = node?.range?.[0] ?? 0;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof segment === "number" && node.items[segment]) {
      node = node.items[segment] as Node;
      offset = node.range?.[0] ?? offset;
    } else {
      break;
    }
  }
  return offset;
}

function yamlSyntaxProblem(error: unknown): ConfigProblem | undefined {
  const cause = (error as { cause?: { name?: string; linePos?: { line: number }[]; message?: string } }).cause;
  if (cause?.name !== "YAMLParseError") return undefined;
  const firstLine = (cause.message ?? "").split("\n")[0];
  return { setting: "(YAML syntax)", line: cause.linePos?.[0]?.line ?? 1, message: `The file is not valid YAML: ${firstLine}` };
}

async function readRawConfig(octokit: Octokit, at: RepoRef): Promise<string> {
  try {
    const response = await octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
      owner: at.owner,
      repo: at.repo,
      path: REPO_CONFIG_PATH,
      ref: at.ref,
      mediaType: { format: "raw" },
    });
    return String(response.data);
  } catch {
    // The settings came from an org-wide file; line 1 of ours is the best place to point.
    return "";
  }
}
