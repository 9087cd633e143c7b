import type { Context } from "probot";
import { reportConfigCheck } from "../notify/config-check-run.ts";
import { loadRepoConfig } from "./load-repo-config.ts";

/** Validates `.github/gantry.yml` at every pushed commit and reports it as the `gantry/config` check. */
export async function checkConfigOnPush(context: Context<"push">): Promise<void> {
  const { payload } = context;
  if (payload.deleted) return;
  const at = context.repo();
  const result = await loadRepoConfig(context.octokit, { ...at, ref: payload.after });
  if (result.status === "absent") return;
  await reportConfigCheck(context.octokit, { ...at, headSha: payload.after }, result);
}
