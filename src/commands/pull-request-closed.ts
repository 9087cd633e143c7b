import type { Context } from "probot";
import type { ChatOpsDependencies } from "./handle-comment.ts";

/** `pull_request.closed` (merged or not): sticky locks taken from the pull request are released. */
export function pullRequestClosedHandler(dependencies: Pick<ChatOpsDependencies, "controller" | "audit">) {
  return async (context: Context<"pull_request.closed">): Promise<void> => {
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
