import type { Context } from "probot";
import { z } from "zod";
import { payloadFields } from "../inbox/invalid-payload.ts";
import type { ChatOpsDependencies } from "./handle-comment.ts";

/** The fields of `pull_request.closed` this handler uses. */
export const pullRequestClosedFields = z.object({
  pull_request: z.object({ number: z.number().int().positive(), merged: z.boolean().nullable().optional() }),
  repository: z.object({ id: z.number().int().positive(), name: z.string().min(1).max(100), full_name: z.string().min(3).max(200), owner: z.object({ login: z.string().min(1).max(100) }) }),
  installation: z.object({ id: z.number().int().positive() }),
  sender: z.object({ login: z.string().min(1).max(100) }),
});

/** `pull_request.closed` (merged or not): sticky locks taken from the pull request are released. */
export function pullRequestClosedHandler(dependencies: Pick<ChatOpsDependencies, "controller" | "audit">) {
  return async (context: Context<"pull_request.closed">): Promise<void> => {
    payloadFields(pullRequestClosedFields, context);
    const { pull_request: pullRequest, repository, installation, sender } = context.payload;
    const repo = { owner: repository.owner.login, repo: repository.name, id: repository.id, installationId: installation!.id };
    const released = await dependencies.controller.releaseLocksOf(repo, pullRequest.number);
    for (const lock of released) {
      await dependencies.audit.record({
        repository: repository.full_name,
        issueNumber: pullRequest.number,
        commentId: null,
        actor: sender.login,
        command: `(pull request #${pullRequest.number} ${pullRequest.merged ? "merged" : "closed"})`,
        environment: lock.environment,
        decision: "accepted",
        gate: null,
        reason: `released @${lock.holder}'s lock on ${lock.environment}`,
      });
    }
  };
}
