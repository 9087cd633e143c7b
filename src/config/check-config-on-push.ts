import type { Context } from "probot";
import { reportConfigCheck } from "../notify/config-check-run.ts";
import type { AwsAccountIds } from "./aws-accounts.ts";
import { loadRepoConfig } from "./load-repo-config.ts";

/**
 * Validates `.github/gantry.yml` at every pushed commit, within the server's AWS account limit, and
 * reports it as the `gantry/config` check.
 */
export function checkConfigOnPush(limits: { awsAccountIds?: AwsAccountIds } = {}) {
  return async (context: Context<"push">): Promise<void> => {
    const { payload } = context;
    if (payload.deleted) return;
    const at = context.repo();
    const result = await loadRepoConfig(context.octokit, { ...at, ref: payload.after }, limits);
    if (result.status === "absent") return;
    await reportConfigCheck(context.octokit, { ...at, headSha: payload.after, repositoryId: payload.repository.id }, result);
  };
}
