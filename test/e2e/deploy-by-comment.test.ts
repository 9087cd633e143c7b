import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/audit-log.ts";
import type { Phase, RepoRef } from "../../src/deploy/api.ts";
import { randomSha } from "../support/deploy-world.ts";
import { startLoad } from "../support/load.ts";
import { TEST_INSTALLATION_ID } from "../support/probot.ts";
import type { Comment } from "../world/github/state.ts";
import { deploymentReaching, eventually, FULL_NAME, NAME, OWNER, startE2eWorld, type E2eWorld } from "./world.ts";

// One world for the whole file, in order: the rollback at the end returns to what the first deploy shipped.
describe("/deploy production by comment, end to end: GitHub emulator → Gantry → AWS emulator, with real traffic", () => {
  let REPO: RepoRef;
  const SHA_A = randomSha();
  const SHA_B = randomSha();
  let e: E2eWorld;
  let digestA: string;
  /** The writer's first `/deploy production`, redelivered in the second test. */
  let first: Awaited<ReturnType<E2eWorld["comment"]>>;

  beforeAll(async () => {
    e = await startE2eWorld();
    REPO = { owner: OWNER, repo: NAME, id: e.repo.id, installationId: TEST_INSTALLATION_ID };
    e.github.seedPermission(FULL_NAME, "writer", "write");
    e.github.seedPermission(FULL_NAME, "reader", "read");
    digestA = await e.readyPullRequest(1, SHA_A, { version: "v2" });
  });
  afterAll(async () => {
    await e?.close();
  });

  const botComments = (issue: number): Comment[] =>
    [...e.repo.comments.values()].filter((comment) => comment.issueNumber === issue && comment.user.type === "Bot");
  const githubDeployment = (sha: string) => [...e.repo.deployments.values()].filter((deployment) => deployment.sha === sha);
  const statesOf = (sha: string) => githubDeployment(sha)[0]?.statuses.map((status) => status.state) ?? [];
  const deployChecks = (sha: string) => [...e.repo.checkRuns.values()].filter((run) => run.headSha === sha && run.name === "gantry/deploy production");
  const reactionsOn = (comment: Comment) => comment.reactions.map((reaction) => reaction.content);
  const until = (sha: string, phases: Phase[]) => deploymentReaching(e.gantry.controller, REPO, sha, phases);
  /** Versions that answer requests through the production listener now. */
  const servedVersions = async (requests: number) => {
    const versions = new Set<string>();
    for (let i = 0; i < requests; i += 1) {
      const response = await fetch(e.world.listeners.production.url);
      await response.arrayBuffer();
      versions.add(response.headers.get("x-sample-version") ?? "none");
    }
    return versions;
  };
  /** Everything a repeated command could add to, on both sides. */
  const footprint = async () => ({
    deployments: (await e.gantry.controller.history(REPO)).length,
    githubDeployments: e.repo.deployments.size,
    comments: e.repo.comments.size,
    checkRuns: e.repo.checkRuns.size,
    reactions: [...e.repo.comments.values()].flatMap(reactionsOn).length,
    audit: (await new AuditLog(e.gantry.store).recent(FULL_NAME)).length,
  });

  it("takes a writer's /deploy production to 100% green with no failed request, and tells GitHub as it goes", async () => {
    const load = startLoad(e.world.listeners.production.url, 150);
    // Sample the app's comments on the PR as a reader refreshing the page would: each id and the bodies it showed.
    const seen = new Map<number, Set<string>>();
    const sampler = setInterval(() => {
      for (const comment of botComments(1)) (seen.get(comment.id) ?? seen.set(comment.id, new Set()).get(comment.id)!).add(comment.body);
    }, 20);
    try {
      first = await e.comment(1, "writer", "/deploy production");
      expect(first.delivery.status).toBe(202);
      const done = await until(SHA_A, ["succeeded"]);
      expect(done.reason).toBeNull();
      // The notifier reacts last, after the final edit of the comment.
      await eventually("🚀 on the command", () => (reactionsOn(first.comment).includes("rocket") ? true : undefined));
    } finally {
      clearInterval(sampler);
    }
    const stats = await load.stop();

    // AWS: all traffic on green, read back from the ALB and seen by clients; nobody saw an error.
    expect(await e.liveWeights()).toEqual({ blue: 0, green: 100 });
    expect(await servedVersions(20)).toEqual(new Set(["v2"]));
    expect(stats.failures).toEqual({});
    expect(stats.byVersion.v2!.total).toBeGreaterThan(0);

    // GitHub: 👀 on receipt, then 🚀.
    expect(reactionsOn(first.comment)).toEqual(["eyes", "rocket"]);
    // One status comment, edited in place through the phases, ending with the verdicts' evidence.
    const [status, ...others] = botComments(1);
    expect(others).toEqual([]);
    expect([...seen.keys()]).toEqual([status!.id]);
    const bodies = [...seen.get(status!.id)!];
    expect(bodies.some((body) => body.includes("| phase | shifting traffic (step 1) |"))).toBe(true);
    expect(status!.body).toContain(`### ✅ Deployed \`${SHA_A.slice(0, 7)}\` to **production**`);
    expect(status!.body).toContain("| phase | succeeded |");
    expect(status!.body).toContain(`\`${digestA}\``);
    expect(status!.body).toMatch(/\| 1 \| \d\d:\d\d:\d\d–\d\d:\d\d:\d\d \| \d\d:\d\d:\d\d \(\+\d+ s\) \| ✅ pass \| \d+\/\d+ failed \([\d.]+%\), p99 \d+ ms \| \d+\/\d+ failed/);
    // One GitHub Deployment of the SHA, pinned to the digest, whose statuses moved in order.
    expect(githubDeployment(SHA_A)).toHaveLength(1);
    expect(githubDeployment(SHA_A)[0]).toMatchObject({ environment: "production", payload: { imageDigest: digestA } });
    expect(statesOf(SHA_A)).toEqual(["queued", "in_progress", "success"]);
    expect(deployChecks(SHA_A)).toEqual([expect.objectContaining({ status: "completed", conclusion: "success" })]);
    expect(e.github.violations).toEqual([]);
  }, 60_000);

  it("does nothing more when the same comment is delivered again, under the same or a new delivery id", async () => {
    const before = await footprint();
    const same = await e.deliver(first.payload, first.delivery.deliveryId);
    expect({ status: same.status, body: JSON.parse(same.body) as unknown }).toEqual({ status: 202, body: { status: 202, message: "duplicate" } });
    const fresh = await e.deliver(first.payload);
    expect(JSON.parse(fresh.body)).toEqual({ status: 202, message: "queued" });

    // Both deliveries of the comment were processed (none retried, none dead) and changed nothing.
    expect(await e.inboxSettled()).toEqual({ pending: 0, done: 2, dead: 0 });
    expect(await footprint()).toEqual(before);
    expect(githubDeployment(SHA_A)).toHaveLength(1);
    expect(botComments(1)).toHaveLength(1);
  });

  it("refuses a read-only user's /deploy production at the permission gate, audits it, and deploys nothing", async () => {
    const before = await footprint();
    const { comment } = await e.comment(1, "reader", "/deploy production");
    await e.inboxSettled();
    // The answer leaves through the outbox, after the command is done.
    await e.outboxSettled();

    const reply = botComments(1).find((candidate) => candidate.body.includes("refused"));
    expect(reply?.body).toContain("🛑 `/deploy production` refused by the **permission** gate: @reader has read access to acme/web; production needs write or more.");
    expect(reactionsOn(comment)).toEqual(["eyes", "-1"]);
    const [entry] = await new AuditLog(e.gantry.store).recent(FULL_NAME, { limit: 1 });
    expect(entry).toMatchObject({ actor: "reader", commentId: comment.id, issueNumber: 1, command: "/deploy production", environment: "production", decision: "refused", gate: "permission" });

    // Nothing deployed: no new deployment on either side, traffic where it was.
    const after = await footprint();
    expect({ deployments: after.deployments, githubDeployments: after.githubDeployments, checkRuns: after.checkRuns }).toEqual({
      deployments: before.deployments,
      githubDeployments: before.githubDeployments,
      checkRuns: before.checkRuns,
    });
    expect(after.audit).toBe(before.audit + 1);
    expect(await e.liveWeights()).toEqual({ blue: 0, green: 100 });
  });

  it("/rollback production after promotion puts traffic back on the warm colour and tells GitHub which Deployment is live", async () => {
    // Config is read from the default branch at each command: this deploy keeps the old colour warm long enough to roll back to.
    e.commitConfig({ keepWarm: "60s" });
    await e.readyPullRequest(2, SHA_B, { version: "v3" });
    const load = startLoad(e.world.listeners.production.url, 150);
    const deploy = await e.comment(2, "writer", "/deploy production");
    await until(SHA_B, ["cooling"]);
    // B went to the idle colour (blue) and took all traffic; green still runs A, warm.
    expect(await e.liveWeights()).toEqual({ blue: 100, green: 0 });
    // The PR says so: live, the old colour warm until a time, the check run done, 🚀.
    await eventually("the status comment to show B live", () => (botComments(2)[0]?.body.includes("### ✅ Live:") ? true : undefined));
    expect(botComments(2)[0]!.body).toMatch(/\| phase \| live; the old colour \(green\) is kept warm until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \|/);
    await eventually("🚀 on the command while B is live", () => (reactionsOn(deploy.comment).includes("rocket") ? true : undefined));
    expect(deployChecks(SHA_B)).toEqual([expect.objectContaining({ status: "completed", conclusion: "success" })]);

    const rollback = await e.comment(2, "writer", "/rollback production");
    const rolledBack = await until(SHA_B, ["rolled-back"]);
    await eventually("GitHub to show A live again", () => (statesOf(SHA_A).at(-1) === "success" && statesOf(SHA_B).at(-1) === "failure" ? true : undefined));
    await e.inboxSettled();
    const stats = await load.stop();

    // AWS: traffic back on green (A, v2), verified through the ALB; B's colour scaled down; no client saw an error.
    expect(await e.liveWeights()).toEqual({ blue: 0, green: 100 });
    expect(await servedVersions(20)).toEqual(new Set(["v2"]));
    expect(stats.failures).toEqual({});
    expect(stats.byVersion.v3!.total).toBeGreaterThan(0);
    expect(rolledBack.reason).toBe("rollback requested by @writer");
    expect(rolledBack.timeToRestoreMs).toBeGreaterThanOrEqual(0);

    // GitHub: B was live (success, which superseded A), then failed; A was made live again.
    expect(statesOf(SHA_B)).toEqual(["queued", "in_progress", "success", "in_progress", "failure"]);
    expect(statesOf(SHA_A)).toEqual(["queued", "in_progress", "success", "inactive", "success"]);
    // Live during keep-warm (success); GitHub does not reopen a completed run, so the rollback got a new one.
    expect(deployChecks(SHA_B)).toEqual([
      expect.objectContaining({ status: "completed", conclusion: "success" }),
      expect.objectContaining({ status: "completed", conclusion: "failure" }),
    ]);
    // 🚀 while it was live, taken back by the rollback.
    expect(reactionsOn(deploy.comment)).toEqual(["eyes", "-1"]);
    expect(reactionsOn(rollback.comment)).toEqual(["eyes"]);
    const [status, reply, ...others] = botComments(2);
    expect(others).toEqual([]);
    expect(status!.body).toContain(`### ↩️ Rolled back: \`${SHA_B.slice(0, 7)}\` to **production**`);
    expect(status!.body).toContain("| why it stopped | rollback requested by @writer |");
    expect(reply!.body).toMatch(/^✅ Rolling back production: deployment of `[0-9a-f]{7}` by @writer, now live; the old colour \(green\) is kept warm until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.\n\n<!-- gantry:reply-to \d+ -->$/);
    expect(e.github.violations).toEqual([]);
  }, 60_000);
});
