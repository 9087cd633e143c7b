import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeploymentView, Phase } from "../../src/deploy/api.ts";
import { DeploymentNotifications } from "../../src/notify/notification-store.ts";
import { outboxDrain } from "../../src/notify/outbox-drain.ts";
import { GitHubOutbox, type ClaimedSubject } from "../../src/notify/outbox-store.ts";
import { slackSender } from "../../src/slack/slack-app.ts";
import type { SlackSettings } from "../../src/slack/settings.ts";
import { SLACK_LANE, SlackOutbox } from "../../src/slack/slack-outbox.ts";
import type { ClaimLoop } from "../../src/store/claim-loop.ts";
import type { Store } from "../../src/store/open-store.ts";
import { eventually } from "../e2e/world.ts";
import { silentLog } from "../support/probot.ts";
import { storeBackends } from "../support/stores.ts";
import { startSlackEmulator, type SlackEmulator } from "../world/slack/emulator.ts";
import { deploymentViewFixture } from "../support/deployment-fixture.ts";

const SHA = "a".repeat(40);

function view(phase: Phase, updatedAt: number, slackChannel: string | null = "#deploys"): DeploymentView {
  return deploymentViewFixture(phase, updatedAt, { sha: SHA, approval: { required: 1, by: [], until: null }, slackChannel });
}

describe.each(storeBackends)("Slack messages through the outbox, store on $name", (backend) => {
  let store: Store;
  let slack: SlackEmulator;
  let drain: ClaimLoop<ClaimedSubject>;
  let messages: SlackOutbox;

  beforeEach(async () => {
    store = await (await backend.location()).open();
    slack = await startSlackEmulator();
    slack.seedChannel("deploys");
    const settings: SlackSettings = { signingSecret: "s", botToken: slack.token, apiUrl: `${slack.url}/api/`, githubWebUrl: "https://github.com", oauth: undefined, identitiesFile: undefined };
    const outbox = new GitHubOutbox(store);
    const failGitHub = () => Promise.reject(new Error("no GitHub write is expected here"));
    drain = outboxDrain({
      outbox,
      sendDeployment: failGitHub,
      sendCommand: failGitHub,
      sendSlack: slackSender({ settings, store, notifications: new DeploymentNotifications(store), log: silentLog }),
      log: silentLog,
      instanceId: "test",
      pollMs: 20,
    });
    messages = new SlackOutbox(outbox, store, () => drain.wake());
    drain.start();
  });
  afterEach(async () => {
    await drain.stop();
    await slack.close();
    await store.close();
  });

  const pending = async () => Number((await store.db.selectFrom("github_outbox_changes").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
  const posts = () => slack.calls.filter((call) => call.method === "chat.postMessage" && call.result.ok);
  const settled = () => eventually("the outbox to empty", async () => ((await pending()) === 0 ? true : undefined));

  it("holds Slack's lane for as long as Slack's Retry-After says, then posts the latest view once", async () => {
    slack.refuse({ rateLimitedSeconds: 1 });
    await messages.deploymentChanged(view("awaiting-approval", 2_000));
    await eventually("a refused call", () => (slack.calls.some((call) => call.result.error === "ratelimited") ? true : undefined));
    // Recording never waits on Slack: the changes queue while it refuses.
    await messages.deploymentChanged(view("shifting", 3_000));
    await messages.deploymentChanged(view("cooling", 4_000));
    // The drain holds the lane once it has read Slack's answer.
    const held = await eventually("Slack's lane to be held", () =>
      store.db.selectFrom("github_installations").selectAll().where("installation_id", "=", SLACK_LANE).executeTakeFirst(),
    );
    expect(held.reason).toContain("rate-limited");
    slack.refuse(null);
    await settled();
    expect(posts()).toHaveLength(1);
    const [message] = [...slack.workspace.messages.values()];
    expect(message!.text).toContain("Live");
  });

  it("retries a Slack that is down, then updates the one message in place; an unchanged view costs no call", async () => {
    await messages.deploymentChanged(view("awaiting-approval", 2_000));
    await settled();
    slack.refuse({ status: 503 });
    await messages.deploymentChanged(view("rolling-back", 3_000));
    await eventually("a refused update", () => (slack.calls.some((call) => call.method === "chat.update" && !call.result.ok) ? true : undefined));
    expect(await pending()).toBeGreaterThan(0);
    slack.refuse(null);
    await settled();
    await messages.deploymentChanged(view("rolling-back", 3_000));
    await settled();
    expect(posts()).toHaveLength(1);
    expect(slack.calls.filter((call) => call.method === "chat.update" && call.result.ok)).toHaveLength(1);
    expect([...slack.workspace.messages.values()][0]!.text).toContain("Rolling back");
  });

  it("drops a message Slack will never take (a channel Gantry is not in) instead of retrying it forever", async () => {
    await messages.deploymentChanged(view("preparing", 2_000, "#nowhere"));
    await settled();
    expect(slack.calls.filter((call) => call.method === "chat.postMessage").map((call) => call.result.error)).toEqual(["channel_not_found"]);
  });

  it("records nothing for a deployment without a channel, and a failing test run once per commit", async () => {
    await messages.deploymentChanged(view("preparing", 2_000, null));
    expect(await pending()).toBe(0);
    const notice = { repo: { owner: "acme", repo: "web" }, sha: SHA, branch: "main", channel: "#deploys", summary: "<!channel> 2 tests failed", checkRunUrl: "https://github.com/acme/web/runs/1" };
    await messages.postTestFailure(notice);
    await messages.postTestFailure(notice);
    await settled();
    await messages.postTestFailure(notice);
    await settled();
    expect(posts()).toHaveLength(1);
    // What a test printed cannot mention the channel.
    expect(JSON.stringify(posts()[0]!.args.blocks)).toContain("&lt;!channel&gt; 2 tests failed");
  });
});
