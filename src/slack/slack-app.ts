import { App, HTTPReceiver, LogLevel, webApi, type Logger as BoltLogger } from "@slack/bolt";
import type { Logger } from "probot";
import type { AuditLog } from "../audit/audit-log.ts";
import type { Octokit } from "../commands/github.ts";
import { PermissionCache } from "../commands/permission-cache.ts";
import type { DeploymentController, DeploymentView } from "../deploy/api.ts";
import type { DeploymentNotifications } from "../notify/notification-store.ts";
import type { Store } from "../store/open-store.ts";
import type { Routes } from "../web/http-server.ts";
import { handleClick, type ClickAct } from "./authorise-click.ts";
import { readIdentityFile } from "./identity-file.ts";
import { SlackIdentities } from "./identity-store.ts";
import { linkPages } from "./link-pages.ts";
import { ACTION } from "./message-blocks.ts";
import { slackChangeSchema } from "./slack-outbox.ts";
import { SlackMessageSender } from "./slack-sender.ts";
import type { SlackSettings } from "./settings.ts";
import { answerSlashCommand } from "./slash-command.ts";

/** Where Slack posts: the request URLs of the Slack app's settings (events, slash commands, interactivity). */
export const SLACK_ENDPOINTS = ["/slack/events", "/slack/commands", "/slack/actions"] as const;

export interface SlackDependencies {
  settings: SlackSettings;
  store: Store;
  controller: DeploymentController;
  viewOf(id: string): Promise<DeploymentView | undefined>;
  audit: AuditLog;
  appOctokit(): Promise<Octokit>;
  octokitFor(installationId: number): Promise<Octokit>;
  appId: number;
  log: Logger;
}

/** Bolt logs through Gantry's logger (bounded lines, no payloads). */
function boltLogger(log: Logger): BoltLogger {
  return {
    debug: (...msg: unknown[]) => log.debug(msg.map(String).join(" ")),
    info: (...msg: unknown[]) => log.info(msg.map(String).join(" ")),
    warn: (...msg: unknown[]) => log.warn(msg.map(String).join(" ")),
    error: (...msg: unknown[]) => log.error(msg.map(String).join(" ")),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}

/**
 * Slack on Gantry's own HTTP server: Bolt's receiver checks every request's signature and age (older
 * than five minutes, or badly signed: 401 and nothing runs), then routes slash commands and button
 * clicks here. Messages go out through the outbox, never from a request or a tick.
 */
export function slackReceiver(dependencies: SlackDependencies): Routes {
  const { settings, log } = dependencies;
  const identities = new SlackIdentities(dependencies.store, settings.identitiesFile ? readIdentityFile(settings.identitiesFile) : new Map());
  const permissions = new PermissionCache();
  const receiver = new HTTPReceiver({
    signingSecret: settings.signingSecret,
    endpoints: [...SLACK_ENDPOINTS],
    logger: boltLogger(log),
  });
  // Calls are not retried inside the client: a click's answer is best-effort, and the outbox retries messages itself.
  const app = new App({ receiver, token: settings.botToken, tokenVerificationEnabled: false, clientOptions: clientOptions(settings), logger: boltLogger(log) });

  const commandDependencies = {
    identities,
    controller: dependencies.controller,
    audit: dependencies.audit,
    permissions,
    appOctokit: dependencies.appOctokit,
    octokitFor: dependencies.octokitFor,
    linkBaseUrl: settings.oauth ? new URL("/", settings.oauth.redirectUri).href : undefined,
  };
  app.command("/gantry", async ({ command, ack, respond }) => {
    const verb = command.text.trim().split(/\s+/)[0]?.toLowerCase();
    const question = { text: command.text, userId: command.user_id, userName: command.user_name, teamId: command.team_id };
    if (verb !== "status") {
      await ack({ response_type: "ephemeral", text: await answerSlashCommand(commandDependencies, question) });
      return;
    }
    // Status reads GitHub: answered through the response URL, past Slack's three seconds if need be.
    await ack();
    await respond({ response_type: "ephemeral", text: await answerSlashCommand(commandDependencies, question) });
  });

  const clickDependencies = {
    controller: dependencies.controller,
    viewOf: dependencies.viewOf,
    identities,
    audit: dependencies.audit,
    octokitFor: dependencies.octokitFor,
    permissions,
    appId: dependencies.appId,
  };
  const onClick = (act: ClickAct) =>
    app.action(ACTION[act], async ({ ack, body, action, respond }) => {
      // Acknowledged at once: the gates read GitHub, which may take longer than Slack waits.
      await ack();
      if (body.type !== "block_actions" || action.type !== "button") return;
      const click = { act, deploymentId: action.value ?? "", slackUserId: body.user.id, slackTeamId: body.user.team_id ?? body.team?.id ?? "", clickId: `${body.user.id}:${"action_ts" in action ? action.action_ts : body.trigger_id}` };
      let text: string;
      try {
        text = (await handleClick(clickDependencies, click)).text;
      } catch (error) {
        log.error({ err: error, act, deployment: click.deploymentId }, "slack: a click failed");
        text = "💥 Gantry could not act on the click (GitHub or the store failed). Nothing was done; click again to retry.";
      }
      await respond({ response_type: "ephemeral", replace_original: false, text });
    });
  onClick("approve");
  onClick("reject");
  onClick("rollback");

  const slackRoute = (request: Parameters<Routes[string]>[0], response: Parameters<Routes[string]>[1]) => receiver.requestListener(request, response);
  const routes: Routes = Object.fromEntries(SLACK_ENDPOINTS.map((path) => [`POST ${path}`, slackRoute]));
  if (settings.oauth) Object.assign(routes, linkPages({ identities, oauth: settings.oauth, log }));
  return routes;
}

/** Calls are not retried inside the client: a click's answer is best-effort, and the outbox retries messages itself. */
function clientOptions(settings: SlackSettings) {
  return { slackApiUrl: settings.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: 10_000 };
}

/** The outbox drain's sender for Slack subjects: parses what was recorded, then posts or updates the message. */
export function slackSender(options: { settings: SlackSettings; store: Store; notifications: DeploymentNotifications; log: Logger }) {
  const sender = new SlackMessageSender({
    client: new webApi.WebClient(options.settings.botToken, clientOptions(options.settings)),
    store: options.store,
    notifications: options.notifications,
    githubWebUrl: options.settings.githubWebUrl,
  });
  return async (subject: string, changes: unknown[]): Promise<void> => {
    const parsed = changes.map((change) => slackChangeSchema.safeParse(change));
    const valid = parsed.flatMap((result) => (result.success ? [result.data] : []));
    if (valid.length < parsed.length) options.log.error({ subject }, "slack: dropping messages that do not parse");
    await sender.send(subject, valid);
  };
}
