import type { Context } from "probot";
import { z } from "zod";
import { payloadFields } from "../inbox/invalid-payload.ts";
import { reportConfigCheck } from "../notify/config-check-run.ts";
import type { AwsAccountIds } from "./aws-accounts.ts";
import { loadRepoConfig } from "./load-repo-config.ts";

/** The fields of `push` this handler uses. */
export const pushFields = z.object({
  deleted: z.boolean().optional(),
  after: z.string().regex(/^[0-9a-f]{40}$/),
  repository: z.object({ id: z.number().int().positive(), name: z.string().min(1).max(100), owner: z.object({ login: z.string().min(1).max(100) }) }),
  installation: z.object({ id: z.number().int().positive() }),
});

/**
 * Validates `.github/gantry.yml` at every pushed commit, within the server's AWS account limit, and
 * reports it as the `gantry/config` check.
 */
export function checkConfigOnPush(limits: { awsAccountIds?: AwsAccountIds } = {}) {
  return async (context: Context<"push">): Promise<void> => {
    const payload = payloadFields(pushFields, context);
    if (payload.deleted) return;
    const at = context.repo();
    const result = await loadRepoConfig(context.octokit, { ...at, ref: payload.after }, limits);
    if (result.status === "absent") return;
    await reportConfigCheck(context.octokit, { ...at, headSha: payload.after, repositoryId: payload.repository.id }, result);
  };
}
