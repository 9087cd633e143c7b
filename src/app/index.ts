import type { ApplicationFunction } from "probot";
import { commentHandler, type ChatOpsDependencies } from "../commands/handle-comment.ts";
import { pullRequestClosedHandler } from "../commands/pull-request-closed.ts";
import type { AwsAccountIds } from "../config/aws-accounts.ts";
import { checkConfigOnPush } from "../config/check-config-on-push.ts";

export interface GantryServices {
  /** Comment commands; absent until a deployment controller is wired in. */
  chatOps?: ChatOpsDependencies;
  /** The AWS accounts roles may live in (GANTRY_AWS_ACCOUNT_IDS); the config check enforces it. */
  awsAccountIds?: AwsAccountIds;
}

/** The Probot app: routes GitHub events to the module that owns them, and nothing else. */
export function createGantryApp(services: GantryServices = {}): ApplicationFunction {
  return (app) => {
    app.on("push", checkConfigOnPush({ awsAccountIds: services.awsAccountIds }));
    if (services.chatOps) {
      app.on("issue_comment.created", commentHandler(services.chatOps));
      app.on("pull_request.closed", pullRequestClosedHandler(services.chatOps));
    }
  };
}
