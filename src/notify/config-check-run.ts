import type { ProbotOctokit } from "probot";
import type { ConfigProblem, RepoConfigResult } from "../config/load-repo-config.ts";
import { REPO_CONFIG_PATH } from "../config/repo-config.ts";
import { createCheckRun } from "./github-writes.ts";

type Octokit = InstanceType<typeof ProbotOctokit>;

export const CONFIG_CHECK_NAME = "gantry/config";

/**
 * Reports the state of `.github/gantry.yml` as a completed `gantry/config` check run on the commit,
 * with the ExternalId the environments' roles must trust.
 */
export async function reportConfigCheck(
  octokit: Octokit,
  at: { owner: string; repo: string; headSha: string; repositoryId: number },
  result: Exclude<RepoConfigResult, { status: "absent" }>,
): Promise<void> {
  const externalId = `Roles are assumed with ExternalId \`${at.repositoryId}\`, this repository's id: each role's trust policy must require it.`;
  const output =
    result.status === "valid"
      ? {
          title: "Configuration is valid",
          summary: `Environments: ${Object.keys(result.config.environments).join(", ") || "(none)"}.\n\n${externalId}`,
        }
      : failureOutput(result.problems, result.total, externalId);
  await createCheckRun(
    octokit,
    { owner: at.owner, repo: at.repo },
    { name: CONFIG_CHECK_NAME, head_sha: at.headSha, status: "completed", conclusion: result.status === "valid" ? "success" : "failure" },
    output,
    `in \`${REPO_CONFIG_PATH}\` at this commit`,
  );
}

/** `problems`: the first of `total`, at most 50, which is also GitHub's limit of annotations per request. */
function failureOutput(reported: ConfigProblem[], total: number, externalId: string) {
  const count = total === 1 ? "1 problem" : `${total} problems`;
  const more = total - reported.length;
  return {
    title: `${REPO_CONFIG_PATH} has ${count}`,
    summary: [
      `Gantry will not act on this commit until \`${REPO_CONFIG_PATH}\` is fixed.`,
      "",
      ...reported.map((problem) => `- line ${problem.line}, \`${problem.setting}\`: ${problem.message}`),
      ...(more > 0 ? [`- and ${more} more`] : []),
      "",
      externalId,
    ].join("\n"),
    annotations: reported.map((problem) => ({
      path: REPO_CONFIG_PATH,
      start_line: problem.line,
      end_line: problem.line,
      annotation_level: "failure" as const,
      title: problem.setting,
      message: problem.message,
    })),
  };
}
