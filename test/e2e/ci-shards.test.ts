// Test shards end to end on the local world: a push creates the shard check runs, the local
// executor runs the fixture project's real tests in shards, and the results come back as check runs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallbackTokens } from "../../src/ci/callback-token.ts";
import type { TestsFailed, TestsPassed } from "../../src/ci/ci-service.ts";
import { ciProjectFiles } from "../fixtures/ci-project-files.ts";
import { startSlackEmulator, type SlackEmulator } from "../world/slack/emulator.ts";
import { CALLBACK_SECRET, FAILING_STRINGS, SLOW_TEST, startCiWorld, type CiWorld } from "./ci-world.ts";
import { eventually } from "./world.ts";

const files = (text: string | null) => [...(text ?? "").matchAll(/`([^`]+\.test\.mjs)`/g)].map((match) => match[1]);
/** The fixture's config with a Slack channel: a failing gantry/test on the default branch is posted there. */
const WITH_SLACK_CHANNEL = { ".github/gantry.yml": `${ciProjectFiles()[".github/gantry.yml"]!}slack:\n  channel: "#ci"\n` };

describe("test shards on the local executor", { timeout: 180_000 }, () => {
  let world: CiWorld;
  let slack: SlackEmulator;
  const testsFailed: TestsFailed[] = [];
  beforeAll(async () => {
    slack = await startSlackEmulator();
    slack.seedChannel("ci");
    world = await startCiWorld({ env: { SLACK_SIGNING_SECRET: "slack-signing-secret", SLACK_BOT_TOKEN: slack.token, SLACK_API_URL: `${slack.url}/api/` } });
    world.gantry.ci.onTestsFailed((event) => void testsFailed.push(event));
  });
  afterAll(async () => {
    await world?.close();
    await slack?.close();
  });
  const outboxSettled = () =>
    eventually("the outbox to empty", async () => ((await (await fetch(`${world.gantry.url}/healthz`)).json()) as { outbox: { pending: number } }).outbox.pending === 0 || undefined);
  const slackPostsOf = (sha: string) => slack.calls.filter((call) => call.method === "chat.postMessage" && String(call.args.text).includes(sha.slice(0, 7)));

  it("runs a push to the default branch in two shards and reports green, within 2n + 4 GitHub writes", async () => {
    const passed: TestsPassed[] = [];
    world.gantry.ci.onTestsPassed((event) => void passed.push(event));
    const writesBefore = world.github.answered.filter((request) => request.path.includes("/check-runs") && request.method !== "GET").length;
    const sha = await world.push("main", WITH_SLACK_CHANNEL);
    const summary = await world.completed(sha, "gantry/test");
    expect(summary.conclusion).toBe("success");
    const shards = [await world.completed(sha, "gantry/test (1/2)"), await world.completed(sha, "gantry/test (2/2)")];
    expect(shards.map((shard) => shard.conclusion)).toEqual(["success", "success"]);
    // Every test file ran in exactly one shard.
    expect(shards.flatMap((shard) => files(shard.output.text)).toSorted()).toEqual(["test/arithmetic.test.mjs", "test/lists.test.mjs", "test/strings.test.mjs"]);
    expect(shards.every((shard) => shard.detailsUrl?.includes("/ci/log?"))).toBe(true);
    const log = await fetch(shards[0]!.detailsUrl!);
    expect(log.status).toBe(200);
    expect(await log.text()).toContain("node --test");
    await eventually("the outbox to empty", async () => ((await (await fetch(`${world.gantry.url}/healthz`)).json()) as { outbox: { pending: number } }).outbox.pending === 0 || undefined);
    const writes = world.github.answered.filter((request) => request.path.includes("/check-runs") && request.method !== "GET").length - writesBefore - 1; // less gantry/config
    console.log(`GitHub writes for a run of 2 shards: ${writes}`);
    expect(writes).toBeLessThanOrEqual(2 * 2 + 4);
    // The image step hears of it once.
    expect(passed).toEqual([{ installationId: 2, owner: "acme", repo: "shop", repositoryId: world.repo.id, sha, branch: "main" }]);
    // A passing run posts nothing to Slack, though the commit names a channel.
    expect(testsFailed).toEqual([]);
    expect(slack.calls.filter((call) => call.method === "chat.postMessage")).toEqual([]);
  });

  it("fails the summary and annotates a failing test at its line, offering to re-run the failed shard", async () => {
    const sha = await world.push("main", { ...WITH_SLACK_CHANNEL, "src/strings.mjs": FAILING_STRINGS });
    const summary = await world.completed(sha, "gantry/test");
    expect(summary.conclusion).toBe("failure");
    expect(summary.output.summary).toContain("test/strings.test.mjs");
    expect(summary.actions.map((action) => action.identifier)).toEqual(["rerun-failed"]);
    const failed = world.checkRuns(sha).filter((run) => run.name !== "gantry/test" && run.conclusion === "failure");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.output.annotations).toEqual([
      expect.objectContaining({ path: "test/strings.test.mjs", start_line: 6, annotation_level: "failure", title: "shouts" }),
    ]);

    // "Re-run failed shards" runs that shard again with the same files, in a new check run.
    const before = failed[0]!;
    await world.rerequest(summary, "rerun-failed");
    const again = await eventually("the failed shard's new check run", () => world.checkRuns(sha).find((run) => run.name === before.name && run.id > before.id && run.status === "completed"), 90_000);
    expect(files(again.output.text)).toEqual(files(before.output.text));
    expect(again.output.summary).toContain("attempt 2");

    // The failure was posted to the commit's Slack channel once: the re-run failed again and posted nothing more.
    // (The Slack listener was registered first: once this file's listener has heard of both runs, it has recorded both.)
    await eventually("both failed runs to be heard of", () => (testsFailed.filter((event) => event.sha === sha).length === 2 ? true : undefined), 90_000);
    await outboxSettled();
    const posts = slackPostsOf(sha);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.args.channel).toBe("#ci");
    const [message] = [...slack.workspace.messages.values()].filter((candidate) => candidate.text.includes(sha.slice(0, 7)));
    expect(message!.text).toBe(`gantry/test failed on main of acme/shop at ${sha.slice(0, 7)}`);
    const shown = JSON.stringify(message!.blocks);
    expect(shown).toContain("1 of 2 shards failed, 1 failing test.");
    expect(shown).toContain("test/strings.test.mjs: shouts");
    // The summary check run, or the commit's checks page when the outbox had not created it yet.
    expect(shown).toMatch(new RegExp(`/acme/shop/(runs/${summary.id}|commit/${sha}/checks)\\|check run`));
  });

  it("re-runs one rerequested shard with exactly the files it ran first", async () => {
    const sha = await world.push("main");
    await world.completed(sha, "gantry/test");
    const first = await world.completed(sha, "gantry/test (2/2)");
    await world.rerequest(first);
    const again = await eventually("the re-run shard", () => world.checkRuns(sha).find((run) => run.name === first.name && run.id > first.id && run.status === "completed"), 90_000);
    expect(again.conclusion).toBe("success");
    expect(files(again.output.text)).toEqual(files(first.output.text));
    // The other shard was not run again.
    expect(world.checkRuns(sha).filter((run) => run.name === "gantry/test (1/2)")).toHaveLength(1);

    // "Re-run all checks" runs both shards again, each with its files.
    await world.rerequestSuite(sha);
    const rerun = await eventually("every shard to run again", () => {
      const runs = ["gantry/test (1/2)", "gantry/test (2/2)"].map((name) => world.checkRuns(sha).filter((run) => run.name === name).toSorted((a, b) => b.id - a.id));
      return runs.every((all) => all.length >= 2 && all[0]!.status === "completed") ? runs.map((all) => all[0]!) : undefined;
    }, 90_000);
    expect(rerun.map((run) => run.conclusion)).toEqual(["success", "success"]);
    expect(files(rerun[1]!.output.text)).toEqual(files(first.output.text));
    expect((await world.completed(sha, "gantry/test")).conclusion).toBe("success");
  });

  it("runs nothing for a branch without a pull request, and runs its head once a pull request is opened", async () => {
    const sha = await world.push("topic");
    await eventually("the push to be processed", async () => ((await (await fetch(`${world.gantry.url}/healthz`)).json()) as { inbox: { pending: number } }).inbox.pending === 0 || undefined);
    expect(await world.store.latestRunForSha(world.repo.id, sha)).toBeUndefined();
    await world.openPullRequest(9, "topic");
    expect((await world.completed(sha, "gantry/test")).conclusion).toBe("success");
  });

  it("cancels a branch's running shards when a newer push comes, and refuses forged, cross-shard and replayed callbacks", async () => {
    world.github.seedPull(world.repo.fullName, { number: 7, user: "author", head: { ref: "feature", sha: "0".repeat(40) } });
    const slow = await world.push("feature", { "test/slow.test.mjs": SLOW_TEST });
    const running = await eventually("a shard of the slow run to start", async () => {
      const run = await world.store.latestRunForSha(world.repo.id, slow);
      const shards = run ? await world.store.shards(run.id) : [];
      return shards.length > 0 && shards.every((shard) => shard.status === "running" && shard.handle !== null) ? shards : undefined;
    }, 60_000);
    const [a, b] = running;
    const genuine = new CallbackTokens(CALLBACK_SECRET);
    const report = { passed: 1, skipped: 0, failures: [], flaky: [], files: [], durationMs: 1, exitCode: 0 };
    const post = (shard: string, token: string) =>
      fetch(`${world.gantry.url}/ci/result?shard=${shard}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(report) });
    const forged = new CallbackTokens("another-secret-that-is-long-enough-1234").sign({ shardId: a!.id, attempt: 1, expiresAt: Date.now() + 60_000 });
    const crossShard = genuine.sign({ shardId: b!.id, attempt: 1, expiresAt: Date.now() + 60_000 });
    const expired = genuine.sign({ shardId: a!.id, attempt: 1, expiresAt: Date.now() - 1 });
    const tampered = genuine.sign({ shardId: a!.id, attempt: 1, expiresAt: Date.now() + 60_000 }).replace(/^./, (c) => (c === "W" ? "X" : "W"));
    for (const token of [forged, crossShard, expired, tampered, ""]) expect((await post(a!.id, token)).status).toBe(401);
    expect((await fetch(`${world.gantry.url}/ci/job?shard=${a!.id}`, { headers: { authorization: `Bearer ${crossShard}` } })).status).toBe(401);
    expect((await world.store.shards(a!.run_id)).map((shard) => shard.status)).toEqual(["running", "running"]);
    expect(((await (await fetch(`${world.gantry.url}/healthz`)).json()) as { shards: { running: number } }).shards.running).toBe(2);

    const newer = await world.push("feature");
    const cancelled = await world.completed(slow, "gantry/test");
    expect(cancelled.conclusion).toBe("cancelled");
    for (const shard of running) expect((await world.store.shard(shard.id))?.status).toBe("cancelled");
    const shardRuns = await eventually("the slow run's shard check runs to end", () => {
      const runs = world.checkRuns(slow).filter((run) => run.name !== "gantry/test");
      return runs.length === 2 && runs.every((run) => run.status === "completed") ? runs : undefined;
    });
    expect(shardRuns.map((run) => run.conclusion)).toEqual(["cancelled", "cancelled"]);
    // A genuine token replayed after the cancel changes nothing either.
    expect((await post(a!.id, genuine.sign({ shardId: a!.id, attempt: 1, expiresAt: Date.now() + 60_000 }))).status).toBe(409);
    expect((await world.store.shard(a!.id))?.status).toBe("cancelled");
    expect((await world.completed(newer, "gantry/test")).conclusion).toBe("success");
  });
});
