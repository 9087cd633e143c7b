import type { Context } from "probot";
import { z } from "zod";
import { payloadFields } from "../inbox/invalid-payload.ts";
import type { CiService } from "./ci-service.ts";
import { RERUN_FAILED_ACTION } from "./check-output.ts";

const repository = z.object({ id: z.number().int().positive() });
const appId = z.number().int().positive();

const checkRunFields = z.object({
  check_run: z.object({ id: z.number().int().positive(), app: z.object({ id: appId }) }),
  requested_action: z.object({ identifier: z.string().max(100) }).optional(),
  repository,
});
const checkSuiteFields = z.object({
  check_suite: z.object({ head_sha: z.string().regex(/^[0-9a-f]{40}$/), app: z.object({ id: appId }) }),
  repository,
});

/**
 * Re-runs people ask for on GitHub: a shard's "Re-run" (`check_run.rerequested`), "Re-run all"
 * (`check_suite.rerequested`) and the summary's "Re-run failed shards" button
 * (`check_run.requested_action`). Only Gantry's own check runs are acted on.
 */
export function ciCheckHandlers(deps: { service: CiService; appId: number }) {
  const ours = (app: { id: number }) => app.id === deps.appId;
  return {
    checkRunRerequested: async (context: Context<"check_run.rerequested">) => {
      const payload = payloadFields(checkRunFields, context);
      if (!ours(payload.check_run.app)) return;
      // The summary's own "Re-run" runs its failed shards again.
      if (!(await deps.service.rerunShard(payload.repository.id, payload.check_run.id))) await deps.service.rerunFailed(payload.repository.id, payload.check_run.id);
    },
    checkRunRequestedAction: async (context: Context<"check_run.requested_action">) => {
      const payload = payloadFields(checkRunFields, context);
      if (ours(payload.check_run.app) && payload.requested_action?.identifier === RERUN_FAILED_ACTION) {
        await deps.service.rerunFailed(payload.repository.id, payload.check_run.id);
      }
    },
    checkSuiteRerequested: async (context: Context<"check_suite.rerequested">) => {
      const payload = payloadFields(checkSuiteFields, context);
      if (ours(payload.check_suite.app)) await deps.service.rerunAll(payload.repository.id, payload.check_suite.head_sha);
    },
  };
}
