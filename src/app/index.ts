import type { ApplicationFunction } from "probot";
import { commentHandler, commentMayBeCommand, type ChatOpsDependencies } from "../commands/handle-comment.ts";
import { pullRequestClosedHandler } from "../commands/pull-request-closed.ts";
import type { AwsAccountIds } from "../config/aws-accounts.ts";
import { checkConfigOnPush } from "../config/check-config-on-push.ts";
import type { CiService } from "../ci/ci-service.ts";
import type { CiStore } from "../ci/ci-store.ts";
import { ciCheckHandlers } from "../ci/on-check-events.ts";
import { ciOnPullRequest, ciOnPush } from "../ci/on-push.ts";

export interface GantryServices {
  /** Comment commands; absent until a deployment controller is wired in. */
  chatOps?: ChatOpsDependencies;
  /** The AWS accounts roles may live in (GANTRY_AWS_ACCOUNT_IDS); the config check enforces it. */
  awsAccountIds?: AwsAccountIds;
  /** Test shards: runs on push, re-runs asked for on GitHub. */
  ci?: { service: CiService; store: CiStore; appId: number };
}

/** The Probot app: routes GitHub events to the module that owns them, and nothing else. */
export function createGantryApp(services: GantryServices = {}): ApplicationFunction {
  return (app) => {
    app.on("push", checkConfigOnPush({ awsAccountIds: services.awsAccountIds }));
    if (services.ci) {
      const checks = ciCheckHandlers(services.ci);
      app.on("push", ciOnPush(services.ci));
      app.on(["pull_request.opened", "pull_request.reopened"], ciOnPullRequest(services.ci));
      app.on("check_run.rerequested", checks.checkRunRerequested);
      app.on("check_run.requested_action", checks.checkRunRequestedAction);
      app.on("check_suite.rerequested", checks.checkSuiteRerequested);
    }
    if (services.chatOps) {
      app.on("issue_comment.created", commentHandler(services.chatOps));
      app.on("pull_request.closed", pullRequestClosedHandler(services.chatOps));
    }
  };
}

/**
 * Whether a handler of the app built from `services` may act on a delivery, decided from its parsed
 * payload: the inbox settles any other delivery without handing it to Probot. Only comments are
 * screened, as they come by the hundred and most are conversation; every other event goes through.
 */
export function mayAct(services: GantryServices): (event: string, payload: unknown) => boolean {
  return (event, payload) => event !== "issue_comment" || !services.chatOps || commentMayBeCommand(payload);
}
