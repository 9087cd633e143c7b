import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/audit-log.ts";
import { TERMINAL_PHASES, type DeploymentView, type Phase, type RepoRef } from "../../src/deploy/api.ts";
import type { RunningGantry } from "../../src/gantry.ts";
import { randomSha } from "../support/deploy-world.ts";
import { startLoad } from "../support/load.ts";
import { TEST_INSTALLATION_ID } from "../support/probot.ts";
import { SIGNED_IN_HEADER } from "../world/github/oauth.ts";
import { startSlackEmulator, type SlackEmulator } from "../world/slack/emulator.ts";
import type { SlackUser } from "../world/slack/state.ts";
import { deploymentReaching, eventually, FULL_NAME, NAME, OWNER, startE2eWorld, type E2eWorld } from "./world.ts";

const SIGNING_SECRET = "slack-signing-secret";
// Where people's browsers reach Gantry; the test sends those requests to Gantry's real address.
const PUBLIC_URL = "http://gantry.test";

// One world for the file, in order: people link their accounts, then deployments wait for them.
describe("Slack end to end: signed requests to the running Gantry, its messages through the Slack emulator", () => {
  let e: E2eWorld;
  let slack: SlackEmulator;
  let REPO: RepoRef;
  let gantry: RunningGantry;
  const users: Record<string, SlackUser> = {};

  beforeAll(async () => {
    slack = await startSlackEmulator();
    slack.seedChannel("deploys");
    const env = {
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_BOT_TOKEN: slack.token,
      SLACK_API_URL: `${slack.url}/api/`,
      GANTRY_PUBLIC_URL: PUBLIC_URL,
      // One data directory for every Gantry of the file: a restarted one finds what the first stored.
      GANTRY_DATA_DIR: mkdtempSync(join(tmpdir(), "gantry-slack-")),
    };
    e = await startE2eWorld({
      env: (github) => ({ ...env, GITHUB_WEB_URL: github.url, GITHUB_CLIENT_ID: github.oauthClient.clientId, GITHUB_CLIENT_SECRET: github.oauthClient.clientSecret }),
    });
    gantry = e.gantry;
    REPO = { owner: OWNER, repo: NAME, id: e.repo.id, installationId: TEST_INSTALLATION_ID };
    for (const login of ["alice", "writer", "carol", "bob"]) users[login] = slack.seedUser({ name: login, email: `${login}@example.com` });
    e.github.seedPermission(FULL_NAME, "writer", "write");
    e.github.seedPermission(FULL_NAME, "alice", "write");
    e.github.seedPermission(FULL_NAME, "carol", "read");
    e.github.seedPermission(FULL_NAME, "reviewer", "write");
  }, 60_000);
  afterAll(async () => {
    await e?.close();
    await slack?.close();
  });

  const endpoint = (path: string) => `${gantry.url}${path}`;
  const command = (user: string, text: string, options: { secret?: string; timestamp?: number } = {}) =>
    slack.postSlashCommand(endpoint("/slack/commands"), options.secret ?? SIGNING_SECRET, { command: "/gantry", text, userId: users[user]!.id, userName: user, ...(options.timestamp ? { timestamp: options.timestamp } : {}) });
  const click = (user: string, actionId: string, deploymentId: string, options: { secret?: string; timestamp?: number } = {}) =>
    slack.postBlockAction(endpoint("/slack/actions"), options.secret ?? SIGNING_SECRET, { actionId, value: deploymentId, userId: users[user]!.id, ...(options.timestamp ? { timestamp: options.timestamp } : {}) });
  const responses = () => slack.calls.filter((call) => call.method === "response_url").map((call) => String(call.args.text));
  /** The answer to the next click or command sent through its response URL. */
  const answerAfter = async (act: () => Promise<{ status: number }>) => {
    const before = responses().length;
    expect((await act()).status).toBe(200);
    return eventually("an answer through the response URL", () => responses()[before]);
  };
  /** Every GitHub and Slack write the running Gantry queued has been sent. */
  const outboxSettled = () =>
    eventually("the outbox to empty", async () => {
      const health = (await (await fetch(endpoint("/healthz"))).json()) as { outbox: { pending: number } };
      return health.outbox.pending === 0 ? true : undefined;
    });
  const auditCount = async () => (await new AuditLog(gantry.store).recent(FULL_NAME, { limit: 500 })).length;
  const until = (sha: string, phases: Phase[]) => deploymentReaching(gantry.controller, REPO, sha, phases);
  const messagesOf = (sha: string) => [...slack.workspace.messages.values()].filter((message) => message.text.includes(sha.slice(0, 7)));
  const postsOf = (sha: string) => slack.calls.filter((call) => call.method === "chat.postMessage" && String(call.args.text).includes(sha.slice(0, 7)));
  const actionIds = (sha: string) =>
    messagesOf(sha).flatMap((message) => (message.blocks as { type: string; elements?: { action_id?: string }[] }[]).filter((block) => block.type === "actions").flatMap((block) => block.elements!.map((element) => element.action_id)));

  /** `/gantry link`, then GitHub's authorisation as `login`, then the confirmation page. */
  async function link(user: string, login = user): Promise<void> {
    const answer = await command(user, "link");
    const url = /<(http:\/\/gantry\.test\/slack\/link\?token=[^|>]+)\|/.exec(JSON.parse(answer.body).text as string)?.[1];
    expect(url).toBeDefined();
    const toGithub = await fetch(endpoint(new URL(url!).pathname + new URL(url!).search), { redirect: "manual" });
    expect(toGithub.status).toBe(302);
    const authorise = await fetch(toGithub.headers.get("location")!, { redirect: "manual", headers: { [SIGNED_IN_HEADER]: login } });
    expect(authorise.status).toBe(302);
    const back = new URL(authorise.headers.get("location")!);
    expect(back.origin).toBe(PUBLIC_URL);
    const page = await fetch(endpoint(back.pathname + back.search));
    const html = await page.text();
    expect(html).toContain(`asks to act as GitHub user <strong>${login}</strong>`);
    const token = /name="token" value="([^"]+)"/.exec(html)![1]!;
    const confirmed = await fetch(endpoint("/slack/link/confirm"), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token }) });
    expect(confirmed.status).toBe(200);
  }

  it("refuses a badly signed or old request (401) and changes nothing", async () => {
    const audit = await auditCount();
    const stale = Math.floor(Date.now() / 1000) - 6 * 60;
    expect((await command("alice", "link", { secret: "not-the-secret" })).status).toBe(401);
    expect((await command("alice", "link", { timestamp: stale })).status).toBe(401);
    expect((await click("alice", "gantry_approve", "00000000-0000-0000-0000-000000000000", { secret: "not-the-secret" })).status).toBe(401);
    expect((await click("alice", "gantry_approve", "00000000-0000-0000-0000-000000000000", { timestamp: stale })).status).toBe(401);
    expect(responses()).toEqual([]);
    expect(await auditCount()).toBe(audit);
    expect(JSON.parse((await command("alice", "whoami")).body).text).toContain("not linked");
  });

  it("/gantry link links a Slack user to the GitHub user who authorised the app, once confirmed; the link works once", async () => {
    const answer = await command("alice", "link");
    const url = new URL(/<([^|>]+)\|/.exec(JSON.parse(answer.body).text as string)![1]!);
    await link("alice");
    expect(JSON.parse((await command("alice", "whoami")).body).text).toContain("*alice*");
    // An unused earlier link still works only for its own user; a spent one is gone.
    await link("writer");
    await link("carol");
    const spent = await fetch(endpoint(url.pathname + url.search), { redirect: "manual" });
    expect(spent.status).toBe(302);
    const reused = await fetch(endpoint("/slack/link/confirm"), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "token=forged" });
    expect(reused.status).toBe(410);
  });

  it("waits for two approvals, refuses each click that may not approve, saying why, and goes on at /approve in the PR plus an approver's click", async () => {
    e.commitConfig({ slack: { channel: "#deploys" }, approval: { required: true, count: 2, timeout: "5m" } });
    const sha = randomSha();
    await e.readyPullRequest(1, sha, { version: "v2" });
    await e.comment(1, "writer", "/deploy production");
    const waiting = await until(sha, ["awaiting-approval"]);
    await eventually("the Slack message with Approve and Reject", () => (actionIds(sha).includes("gantry_approve") ? true : undefined));
    expect(actionIds(sha)).toEqual(["gantry_approve", "gantry_reject"]);
    await eventually("the PR to say it waits", () => ([...e.repo.comments.values()].some((comment) => comment.body.includes("waiting") && comment.body.includes("/approve production")) ? true : undefined));

    const unchanged = async () => {
      const now = (await gantry.controller.history(REPO)).find((deployment) => deployment.id === waiting.id)!;
      expect(now.phase).toBe("awaiting-approval");
      expect(now.approval?.by).toEqual([]);
    };
    const audit = await auditCount();
    expect(await answerAfter(() => click("bob", "gantry_approve", waiting.id))).toContain("not linked to a GitHub user");
    expect(await answerAfter(() => click("carol", "gantry_approve", waiting.id))).toMatch(/refused by the \*permission\* gate: @carol has read access/);
    expect(await answerAfter(() => click("writer", "gantry_approve", waiting.id))).toMatch(/refused by the \*approvers\* gate: @writer requested this deployment/);
    const pull = e.repo.pulls.get(1)!;
    pull.head.sha = randomSha();
    expect(await answerAfter(() => click("alice", "gantry_approve", waiting.id))).toMatch(/refused by the \*unmoved head\* gate: the head of #1 moved/);
    pull.head.sha = sha;
    await unchanged();
    const entries = await new AuditLog(gantry.store).recent(FULL_NAME, { limit: 4 });
    expect(await auditCount()).toBe(audit + 4);
    expect(entries.map((entry) => [entry.actor, entry.decision, entry.gate])).toEqual([
      ["alice", "refused", "unmoved head"],
      ["writer", "refused", "approvers"],
      ["carol", "refused", "permission"],
      [`slack:${users.bob!.id}`, "refused", "identity"],
    ]);

    // /approve on the pull request counts as one of the two; the message shows who and waits for one more.
    const approve = await e.comment(1, "reviewer", "/approve production");
    await eventually("the PR's answer to /approve", () => ([...e.repo.comments.values()].find((comment) => comment.body.startsWith("✅ Approval counted"))?.body));
    expect([...e.repo.comments.values()].some((comment) => comment.body.includes("waits for 1 more approval") && comment.body.includes(`reply-to ${approve.comment.id}`))).toBe(true);
    await eventually("the Slack message to show the first approval", () => (JSON.stringify(messagesOf(sha)[0]?.blocks).includes("Needs 1 more approval") ? true : undefined));
    expect(JSON.stringify(messagesOf(sha)[0]!.blocks)).toContain("approved by @reviewer");
    expect((await gantry.controller.history(REPO)).find((deployment) => deployment.id === waiting.id)!.phase).toBe("awaiting-approval");

    // The canary needs requests to be judged.
    const load = startLoad(e.world.listeners.production.url, 100);
    expect(await answerAfter(() => click("alice", "gantry_approve", waiting.id))).toContain("@alice approved");
    const done = await until(sha, ["cooling", "succeeded"]).finally(() => load.stop());
    expect(done.approval?.by.map((approval) => approval.by)).toEqual(["reviewer", "alice"]);
    await outboxSettled();
    // One message, posted once and updated in place through the whole canary; its buttons gave way to who approved.
    expect(postsOf(sha)).toHaveLength(1);
    expect(slack.calls.filter((call) => call.method === "chat.update").length).toBeGreaterThanOrEqual(4);
    const [message] = messagesOf(sha);
    expect(JSON.stringify(message!.blocks)).toMatch(/Approved by @reviewer at [^,]+, @alice at /);
    expect(actionIds(sha)).not.toContain("gantry_approve");
  }, 120_000);

  it("Roll back from Slack puts the listener's weights back on the old colour, and the message follows in place", async () => {
    e.commitConfig({ slack: { channel: "#deploys" }, keepWarm: "60s" });
    const sha = randomSha();
    await e.readyPullRequest(2, sha, { version: "v3" });
    const load = startLoad(e.world.listeners.production.url, 100);
    try {
      await e.comment(2, "writer", "/deploy production");
      const live = await until(sha, ["cooling"]);
      const before = await e.liveWeights();
      expect(before[live.liveColour!]).toBe(0);
      await eventually("the Roll back button", () => (actionIds(sha).includes("gantry_rollback") ? true : undefined));

      expect(await answerAfter(() => click("bob", "gantry_rollback", live.id))).toContain("not linked to a GitHub user");
      expect(await answerAfter(() => click("carol", "gantry_rollback", live.id))).toMatch(/refused by the \*permission\* gate/);
      expect((await until(sha, ["cooling"])).phase).toBe("cooling");

      expect(await answerAfter(() => click("alice", "gantry_rollback", live.id))).toContain("@alice is rolling back production");
      const rolledBack = await until(sha, ["rolled-back"]);
      expect(rolledBack.reason).toBe("rollback requested by @alice: from Slack");
      expect((await e.liveWeights())[live.liveColour!]).toBe(100);
    } finally {
      await load.stop();
    }
    await outboxSettled();
    expect(postsOf(sha)).toHaveLength(1);
    const [message] = messagesOf(sha);
    expect(message!.text).toContain("Rolled back");
    expect(JSON.stringify(message!.blocks)).toContain("rollback requested by @alice: from Slack");
    expect(actionIds(sha)).toEqual([]);
  }, 120_000);

  it("an approval that waits past its timeout cancels the deployment and lets the environment go", async () => {
    e.commitConfig({ slack: { channel: "#deploys" }, approval: { required: true, timeout: "2s" } });
    const sha = randomSha();
    await e.readyPullRequest(3, sha, { version: "v4" });
    const weights = await e.liveWeights();
    await e.comment(3, "writer", "/deploy production");
    await until(sha, ["awaiting-approval"]);
    const cancelled = await until(sha, ["aborted"]);
    expect(cancelled.reason).toBe("cancelled: no approval within the approval timeout (2 s)");
    const [status] = await gantry.controller.status(REPO);
    expect(status!.lock).toBeNull();
    expect(status!.running).toBeNull();
    expect(await e.liveWeights()).toEqual(weights);
    await outboxSettled();
    expect(actionIds(sha)).toEqual([]);
    expect(await answerAfter(() => click("alice", "gantry_approve", cancelled.id))).toContain("is aborted; /approve does not apply now");
  }, 120_000);

  it("Roll back on a failed deployment's message rolls back the environment's live deployment as /rollback would, and only while nothing came after", async () => {
    const history = async () => gantry.controller.history(REPO, "production");
    // A live deployment with an earlier successful one of another commit to go back to.
    e.commitConfig({ slack: { channel: "#deploys" } });
    const liveSha = randomSha();
    await e.readyPullRequest(5, liveSha, { version: "v6" });
    const warmUp = startLoad(e.world.listeners.production.url, 100);
    await e.comment(5, "writer", "/deploy production");
    await until(liveSha, ["cooling", "succeeded"]).finally(() => warmUp.stop());
    const earlier = new Set((await history()).filter((deployment) => deployment.phase === "succeeded" && deployment.sha !== liveSha).map((deployment) => deployment.sha));
    expect(earlier.size).toBeGreaterThan(0);
    // A smoke check the new version cannot pass: the deployment fails, traffic stays on the live deployment.
    e.commitConfig({ slack: { channel: "#deploys" }, smoke: [{ path: "/health", expectStatus: 418, timeout: "2s" }] });
    const sha = randomSha();
    await e.readyPullRequest(6, sha, { version: "v7" });
    await e.comment(6, "writer", "/deploy production");
    const failed = await until(sha, ["failed"]);
    expect(failed.reason).toContain("expected 418");
    e.commitConfig({ slack: { channel: "#deploys" } });
    await eventually("the Roll back button on the failed deployment's message", () => (actionIds(sha).includes("gantry_rollback") ? true : undefined));
    expect(actionIds(sha)).toEqual(["gantry_rollback"]);

    // The same gates as /rollback: a reader is refused and nothing changes.
    expect(await answerAfter(() => click("carol", "gantry_rollback", failed.id))).toMatch(/refused by the \*permission\* gate/);
    expect((await history())[0]!.id).toBe(failed.id);

    const load = startLoad(e.world.listeners.production.url, 100);
    let redeploy: DeploymentView;
    try {
      expect(await answerAfter(() => click("alice", "gantry_rollback", failed.id))).toContain("@alice is rolling back production");
      // As `/rollback production` with the live deployment's old colour scaled down: the previous successful commit, by the fast path.
      redeploy = (await history())[0]!;
      expect(redeploy.id).not.toBe(failed.id);
      expect(redeploy.requestedBy).toBe("alice");
      expect(earlier).toContain(redeploy.sha);
      // By id: an earlier deployment of the same commit has ended already.
      const ended = await eventually("the redeploy to end", async () => (await history()).find((deployment) => deployment.id === redeploy.id && (deployment.phase === "cooling" || TERMINAL_PHASES.has(deployment.phase))));
      expect(ended.phase, `${ended.reason}`).toMatch(/^(cooling|succeeded)$/);
    } finally {
      await load.stop();
    }
    const [status] = await gantry.controller.status(REPO);
    expect(status!.liveSha).toBe(redeploy.sha);

    // The failed message's button no longer applies: a deployment came after it. Refused, saying why; nothing changes.
    const audit = await auditCount();
    expect(await answerAfter(() => click("alice", "gantry_rollback", failed.id))).toMatch(/Roll back refused: the deployment of `[0-9a-f]{7}` to production \((cooling|succeeded)\) came after the deployment of `[0-9a-f]{7}` to production; act on its message/);
    expect(await auditCount()).toBe(audit + 1);
    expect((await history())[0]!.id).toBe(redeploy.id);
    expect((await gantry.controller.status(REPO))[0]!.liveSha).toBe(redeploy.sha);
  }, 180_000);

  it("an approval wait survives a restart: the next Gantry takes the click and the deployment goes on", async () => {
    e.commitConfig({ slack: { channel: "#deploys" }, approval: { required: true, timeout: "5m" } });
    const sha = randomSha();
    await e.readyPullRequest(4, sha, { version: "v5" });
    await e.comment(4, "writer", "/deploy production");
    const waiting = await until(sha, ["awaiting-approval"]);
    await outboxSettled();

    const next = await e.startReplica("slack-b");
    await e.gantry.stop();
    gantry = next;
    expect((await until(sha, ["awaiting-approval"])).id).toBe(waiting.id);
    const load = startLoad(e.world.listeners.production.url, 100);
    try {
      expect(await answerAfter(() => click("alice", "gantry_approve", waiting.id))).toContain("@alice approved");
      await until(sha, ["cooling", "succeeded"]);
    } finally {
      await load.stop();
    }
    await eventually("the Slack message to show it live", () => (messagesOf(sha)[0]?.text.includes("Live") || messagesOf(sha)[0]?.text.includes("Deployed") ? true : undefined));
    expect(postsOf(sha)).toHaveLength(1);
  }, 120_000);

  it("/gantry status shows a linked reader what runs where, and refuses an unlinked user", async () => {
    const shown = await answerAfter(() => command("carol", "status acme/web production"));
    expect(shown).toMatch(/^\*acme\/web\*\n• \*production\*: `[0-9a-f]{7}` live, traffic /);
    expect(await answerAfter(() => command("bob", "status acme/web"))).toContain("not linked to a GitHub user");
    expect(await answerAfter(() => command("alice", "status acme/nowhere"))).toContain("not installed on acme/nowhere");
  });

  it("posts a failing gantry/test of a default-branch commit once per commit", async () => {
    const sha = randomSha();
    const notice = { repo: { owner: OWNER, repo: NAME }, sha, branch: "main", channel: "#deploys", summary: "3 of 412 tests failed in shard 2/4", checkRunUrl: null };
    await gantry.postTestFailure(notice);
    await outboxSettled();
    await gantry.postTestFailure({ ...notice, summary: "a rerun failed too" });
    await outboxSettled();
    expect(postsOf(sha)).toHaveLength(1);
    expect(messagesOf(sha)[0]!.text).toBe(`gantry/test failed on main of ${FULL_NAME} at ${sha.slice(0, 7)}`);
  });
});
