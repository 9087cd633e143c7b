// oxlint-disable unicorn/require-post-message-target-origin -- Slack's chat.postMessage, not window.postMessage
import { LogLevel, WebClient } from "@slack/web-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type SlackEmulator, startSlackEmulator } from "./emulator.ts";

let slack: SlackEmulator;
let client: WebClient;
const clientFor = (token?: string): WebClient =>
  new WebClient(token, { slackApiUrl: `${slack.url}/api/`, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });

beforeEach(async () => {
  slack = await startSlackEmulator();
  client = clientFor(slack.token);
});
afterEach(() => slack.close());

const slackError = (error: string) => expect.objectContaining({ data: expect.objectContaining({ ok: false, error }) });

describe("Slack emulator: Web API through @slack/web-api", () => {
  it("answers auth.test for the bot token", async () => {
    expect(await client.auth.test()).toMatchObject({ ok: true, team_id: "T0GANTRY", user_id: "U0GANTRYBOT", bot_id: "B0GANTRY" });
  });

  it("rejects a missing token (not_authed) and a wrong one (invalid_auth)", async () => {
    await expect(clientFor().auth.test()).rejects.toEqual(slackError("not_authed"));
    await expect(clientFor("xoxb-wrong").chat.postMessage({ channel: "#deploys", text: "x" })).rejects.toEqual(slackError("invalid_auth"));
  });

  it("posts a message with blocks to a channel by name, updates it in place, and records both calls", async () => {
    const channel = slack.seedChannel("#deploys");
    const blocks = [{ type: "section", text: { type: "mrkdwn", text: "*Deploying* abc" } }];
    const posted = await client.chat.postMessage({ channel: "#deploys", text: "Deploying abc", blocks });
    expect(posted).toMatchObject({ ok: true, channel, message: { text: "Deploying abc", blocks } });
    const updated = await client.chat.update({ channel, ts: String(posted.ts), text: "Deployed abc", blocks: [] });
    expect(updated).toMatchObject({ ok: true, ts: posted.ts, text: "Deployed abc" });
    expect(slack.workspace.messages.get(`${channel}/${String(posted.ts)}`)?.text).toBe("Deployed abc");
    expect(slack.calls.map((c) => c.method)).toEqual(["chat.postMessage", "chat.update"]);
    expect(slack.calls[0]?.args).toMatchObject({ channel: "#deploys", blocks });
  });

  it("gives Slack's errors for an unknown channel, a missing text, and an unknown message", async () => {
    const channel = slack.seedChannel("deploys");
    await expect(client.chat.postMessage({ channel: "#nope", text: "x" })).rejects.toEqual(slackError("channel_not_found"));
    await expect(client.chat.postMessage({ channel, text: "" })).rejects.toEqual(slackError("no_text"));
    await expect(client.chat.update({ channel, ts: "1.000001", text: "x" })).rejects.toEqual(slackError("message_not_found"));
  });

  it("posts ephemeral messages to known users only", async () => {
    const channel = slack.seedChannel("deploys");
    const alice = slack.seedUser({ name: "alice", email: "alice@example.com" });
    expect(await client.chat.postEphemeral({ channel, user: alice.id, text: "only you" })).toMatchObject({ ok: true });
    await expect(client.chat.postEphemeral({ channel, user: "U404", text: "x" })).rejects.toEqual(slackError("user_not_found"));
  });

  it("looks users up by id and by email", async () => {
    const alice = slack.seedUser({ name: "alice", email: "Alice@Example.com", realName: "Alice Liddell" });
    const info = await client.users.info({ user: alice.id });
    expect(info.user).toMatchObject({ id: alice.id, name: "alice", profile: { email: "Alice@Example.com" } });
    const byEmail = await client.users.lookupByEmail({ email: "alice@example.com" });
    expect(byEmail.user?.id).toBe(alice.id);
    await expect(client.users.info({ user: "U404" })).rejects.toEqual(slackError("user_not_found"));
    await expect(client.users.lookupByEmail({ email: "bob@example.com" })).rejects.toEqual(slackError("users_not_found"));
  });
});
