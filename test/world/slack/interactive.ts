// Signed interactive payloads, as Slack posts them to an app's request URL when a button is clicked.
import { createHmac, randomUUID } from "node:crypto";

export interface BlockAction {
  actionId: string;
  value?: string;
  blockId?: string;
  /** The Slack user who clicked. */
  userId: string;
  channelId?: string;
  /** The message carrying the button. */
  messageTs?: string;
  /** Unix seconds for X-Slack-Request-Timestamp; defaults to now (Bolt rejects stale ones). */
  timestamp?: number;
}

export function slackSignature(signingSecret: string, timestamp: number, body: string): string {
  return `v0=${createHmac("sha256", signingSecret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}

export function blockActionsPayload(action: BlockAction, ws: { teamId: string; domain: string }, responseUrl: string): Record<string, unknown> {
  const actionTs = `${(Date.now() / 1000).toFixed(6)}`;
  const channel = action.channelId ?? "C00000000";
  return {
    type: "block_actions",
    user: { id: action.userId, username: action.userId, name: action.userId, team_id: ws.teamId },
    api_app_id: "A0GANTRY",
    token: "deprecated-verification-token",
    container: { type: "message", message_ts: action.messageTs ?? actionTs, channel_id: channel, is_ephemeral: false },
    trigger_id: randomUUID(),
    team: { id: ws.teamId, domain: ws.domain },
    channel: { id: channel, name: "deploys" },
    message: { type: "message", ts: action.messageTs ?? actionTs, text: "" },
    response_url: responseUrl,
    actions: [
      {
        type: "button",
        action_id: action.actionId,
        block_id: action.blockId ?? "gantry",
        value: action.value ?? "",
        text: { type: "plain_text", text: action.actionId },
        action_ts: actionTs,
      },
    ],
  };
}

export interface SlashCommand {
  /** e.g. `/gantry`. */
  command: string;
  text: string;
  userId: string;
  userName?: string;
  channelId?: string;
  /** Unix seconds for X-Slack-Request-Timestamp; defaults to now. */
  timestamp?: number;
}

/** A slash command as Slack posts it: form fields, not a JSON payload. */
export function slashCommandForm(command: SlashCommand, ws: { teamId: string; domain: string }, responseUrl: string): URLSearchParams {
  return new URLSearchParams({
    token: "deprecated-verification-token",
    team_id: ws.teamId,
    team_domain: ws.domain,
    channel_id: command.channelId ?? "C00000000",
    channel_name: "deploys",
    user_id: command.userId,
    user_name: command.userName ?? command.userId,
    command: command.command,
    text: command.text,
    api_app_id: "A0GANTRY",
    response_url: responseUrl,
    trigger_id: randomUUID(),
  });
}

export async function postSignedForm(url: string, signingSecret: string, form: URLSearchParams, timestamp: number): Promise<{ status: number; body: string }> {
  const body = form.toString();
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": slackSignature(signingSecret, timestamp, body),
    },
    body,
  });
  return { status: response.status, body: await response.text() };
}

export function postSigned(url: string, signingSecret: string, payload: unknown, timestamp: number): Promise<{ status: number; body: string }> {
  return postSignedForm(url, signingSecret, new URLSearchParams({ payload: JSON.stringify(payload) }), timestamp);
}
