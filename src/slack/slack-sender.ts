import type { webApi } from "@slack/bolt";
import type { DeploymentView } from "../deploy/api.ts";
import type { DeploymentNotifications } from "../notify/notification-store.ts";
import type { Store } from "../store/open-store.ts";
import { renderDeploymentMessage, renderTestFailure, type MessageLinks, type SlackMessageBody } from "./message-blocks.ts";
import type { SlackChange } from "./slack-outbox.ts";

type WebClient = InstanceType<typeof webApi.WebClient>;

/**
 * A Slack failure as the outbox's retry rules read GitHub's: a rate limit carries `retry-after`, an
 * error Slack will repeat forever (a channel Gantry is not in, a bad token) is a 4xx and is dropped,
 * anything else (network, Slack's 5xx) is retried with backoff.
 */
export class SlackSendError extends Error {
  readonly status: number | undefined;
  readonly response: { headers: Record<string, string> } | undefined;

  constructor(message: string, status: number | undefined, retryAfterSeconds?: number) {
    super(message);
    this.name = "SlackSendError";
    this.status = status;
    this.response = retryAfterSeconds === undefined ? undefined : { headers: { "retry-after": String(retryAfterSeconds) } };
  }
}

/** Errors Slack answers in the body that say "try again", unlike `channel_not_found` or `invalid_auth`. */
const TRANSIENT_ERRORS: ReadonlySet<string> = new Set(["internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"]);

function asSendError(error: unknown): SlackSendError {
  const failure = error as { code?: string; retryAfter?: number; data?: { error?: string }; statusCode?: number; message?: string };
  switch (failure.code) {
    case "slack_webapi_rate_limited_error":
      return new SlackSendError("Slack rate-limited the call", 429, failure.retryAfter ?? 30);
    case "slack_webapi_platform_error": {
      const reason = failure.data?.error ?? "unknown error";
      return new SlackSendError(`Slack refused the call: ${reason}`, TRANSIENT_ERRORS.has(reason) ? 503 : 400);
    }
    case "slack_webapi_http_error":
      return new SlackSendError(`Slack answered HTTP ${failure.statusCode ?? "?"}`, failure.statusCode);
    default:
      return new SlackSendError(`Slack could not be reached: ${failure.message ?? String(error)}`, undefined);
  }
}

/**
 * Sends a subject's pending Slack changes: a deployment's message is posted once and then updated in
 * place (chat.update) from its latest view; a test failure is posted once. The message's channel and
 * ts are stored, and what was last sent, so an unchanged view costs no call.
 */
export class SlackMessageSender {
  readonly #client: WebClient;
  readonly #store: Store;
  readonly #notifications: DeploymentNotifications;
  readonly #webUrl: string;
  readonly #now: () => number;

  constructor(options: { client: WebClient; store: Store; notifications: DeploymentNotifications; githubWebUrl: string; now?: () => number }) {
    this.#client = options.client;
    this.#store = options.store;
    this.#notifications = options.notifications;
    this.#webUrl = options.githubWebUrl.replace(/\/$/, "");
    this.#now = options.now ?? Date.now;
  }

  async send(subject: string, changes: readonly SlackChange[]): Promise<void> {
    const last = changes.at(-1);
    if (!last) return;
    try {
      if (last.kind === "test-failure") {
        await this.#postOnce(subject, last.channel, renderTestFailure(last.failure), null);
        return;
      }
      // Views merge to the newest: a message shows the present, not each step on the way.
      const views = changes.flatMap((change) => (change.kind === "deployment" ? [change.view] : []));
      const view = views.reduce((newest, candidate) => (candidate.updatedAt >= newest.updatedAt ? candidate : newest));
      await this.#sendDeployment(subject, view);
    } catch (error) {
      throw error instanceof SlackSendError ? error : asSendError(error);
    }
  }

  async #sendDeployment(subject: string, view: DeploymentView): Promise<void> {
    if (!view.slackChannel) return;
    const body = renderDeploymentMessage(view, await this.#links(view));
    const row = await this.#store.db.selectFrom("slack_messages").selectAll().where("subject", "=", subject).executeTakeFirst();
    if (!row) return this.#postOnce(subject, view.slackChannel, body, view.updatedAt);
    if (row.view_updated_at !== null && Number(row.view_updated_at) > view.updatedAt) return;
    const text = JSON.stringify(body);
    if (row.body === text) return;
    await this.#client.chat.update({ channel: row.channel, ts: row.ts, text: body.text, blocks: body.blocks as never });
    await this.#store.db.updateTable("slack_messages").set({ body: text, view_updated_at: view.updatedAt }).where("subject", "=", subject).execute();
  }

  async #postOnce(subject: string, channel: string, body: SlackMessageBody, viewUpdatedAt: number | null): Promise<void> {
    const existing = await this.#store.db.selectFrom("slack_messages").select("subject").where("subject", "=", subject).executeTakeFirst();
    if (existing) return;
    const posted = await this.#client.chat.postMessage({ channel, text: body.text, blocks: body.blocks as never, unfurl_links: false });
    if (!posted.ts || !posted.channel) throw new SlackSendError("Slack did not say where the message went", undefined);
    await this.#store.db
      .insertInto("slack_messages")
      .values({ subject, channel: posted.channel, ts: posted.ts, body: JSON.stringify(body), view_updated_at: viewUpdatedAt, posted_at: this.#now() })
      .onConflict((conflict) => conflict.column("subject").doNothing())
      .execute();
  }

  /** Links to what GitHub holds for the deployment, as far as the GitHub outbox has created it. */
  async #links(view: DeploymentView): Promise<MessageLinks> {
    const repo = `${this.#webUrl}/${view.repo.owner}/${view.repo.repo}`;
    const row = await this.#notifications.find(view.id);
    const issue = row?.issue_number ?? view.pullRequest;
    const pullRequest = view.pullRequest === null ? null : `${repo}/pull/${view.pullRequest}`;
    return {
      pullRequest,
      statusComment: row?.status_comment_id && issue !== null ? `${repo}/pull/${issue}#issuecomment-${row.status_comment_id}` : null,
      deployment: row?.github_deployment_id ? `${repo}/deployments/${encodeURIComponent(view.environment)}` : null,
    };
  }
}
