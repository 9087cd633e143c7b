import type { ProbotOctokit } from "probot";
import type { AwsAccountIds } from "./aws-accounts.ts";
import type { CheckedConfig, ConfigFile, ConfigFiles } from "./check-config-files.ts";
import { checkConfigOffThread } from "./check-config-off-thread.ts";
import { REPO_CONFIG_PATH } from "./repo-config.ts";

export type { ConfigProblem } from "./check-config-files.ts";
export { locateIssues } from "./check-config-files.ts";

type Octokit = InstanceType<typeof ProbotOctokit>;

export type RepoConfigResult = { status: "absent" } | CheckedConfig;

export interface RepoRef {
  owner: string;
  repo: string;
  ref: string;
}

/**
 * Reads `.github/gantry.yml` as Probot's config loader would (org-wide defaults from the `.github`
 * repository when the repository has none, `_extends` followed, the repository's own settings
 * winning), but checks the files itself, off the main thread, with size, nesting and alias bounds
 * before any full parse (check-config-files.ts), within the server's AWS account limit when one is
 * given. Every bad file is a problem with its line; never throws for one.
 */
export async function loadRepoConfig(octokit: Octokit, at: RepoRef, limits: { awsAccountIds?: AwsAccountIds } = {}): Promise<RepoConfigResult> {
  const own = { owner: at.owner, repo: at.repo, path: REPO_CONFIG_PATH };
  let input: ConfigFiles | undefined;
  const ownText = await readConfigText(octokit, own, at.ref);
  if (ownText !== null) input = { files: [{ file: own, text: ownText }], ownIsFirst: true };
  else if (at.repo !== ".github") {
    const orgFile = { ...own, repo: ".github" };
    const orgText = await readConfigText(octokit, orgFile);
    if (orgText !== null) input = { files: [{ file: orgFile, text: orgText }], ownIsFirst: false };
  }
  if (!input) return { status: "absent" };
  if (limits.awsAccountIds) input.awsAccountIds = limits.awsAccountIds;
  for (;;) {
    const check = await checkConfigOffThread(input);
    if (check.kind === "checked") return check.result;
    input.files.push({ file: check.file, text: await readConfigText(octokit, check.file) });
  }
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
