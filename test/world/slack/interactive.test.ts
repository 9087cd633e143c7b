import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { App, ExpressReceiver, LogLevel } from "@slack/bolt";
import { afterEach, describe, expect, it } from "vitest";
import { type SlackEmulator, startSlackEmulator } from "./emulator.ts";

const SIGNING_SECRET = "slack-signing-secret";

let slack: SlackEmulator;
let server: Server;
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await slack.close();
});

/** A real Bolt app on loopback whose Web API client talks to the emulator. */
async function startBolt(onApprove: (args: { userId: string; value: string }) => void): Promise<string> {
  slack = await startSlackEmulator();
  const receiver = new ExpressReceiver({ signingSecret: SIGNING_SECRET, logLevel: LogLevel.ERROR });
  const app = new App({ token: slack.token, receiver, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: `${slack.url}/api/` } });
  app.action("approve", async ({ ack, body, action, respond }) => {
    await ack();
    onApprove({ userId: body.user.id, value: "value" in action ? String(action.value) : "" });
    await respond({ text: "Approved" });
  });
  server = createServer(receiver.app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
}

describe("Slack emulator: signed block_actions to a Bolt receiver", () => {
  it("delivers a button click that Bolt verifies, acks and answers through response_url", async () => {
    const clicks: Array<{ userId: string; value: string }> = [];
    const url = await startBolt((click) => clicks.push(click));
    const alice = slack.seedUser({ name: "alice", email: "alice@example.com" });

    const response = await slack.postBlockAction(url, SIGNING_SECRET, { actionId: "approve", value: "deployment:42", userId: alice.id });

    expect(response.status).toBe(200);
    expect(clicks).toEqual([{ userId: alice.id, value: "deployment:42" }]);
    await expect.poll(() => slack.calls.filter((c) => c.method === "response_url")).toEqual([
      expect.objectContaining({ args: expect.objectContaining({ text: "Approved" }) }),
    ]);
    // Bolt checked its token against the emulator's auth.test on the way.
    expect(slack.calls.some((c) => c.method === "auth.test" && c.result.ok)).toBe(true);
  });

  it("is rejected by Bolt with a wrong signing secret or a stale timestamp", async () => {
    const clicks: unknown[] = [];
    const url = await startBolt((click) => clicks.push(click));
    const bad = await slack.postBlockAction(url, "not-the-secret", { actionId: "approve", userId: "U1" });
    const stale = await slack.postBlockAction(url, SIGNING_SECRET, { actionId: "approve", userId: "U1", timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect([bad.status, stale.status]).toEqual([401, 401]);
    expect(clicks).toEqual([]);
  });
});
