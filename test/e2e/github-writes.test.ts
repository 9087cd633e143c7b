import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TERMINAL_PHASES, type DeploymentView, type RepoRef } from "../../src/deploy/api.ts";
import { randomSha } from "../support/deploy-world.ts";
import { startLoad } from "../support/load.ts";
import { storeBackends } from "../support/stores.ts";
import { TEST_INSTALLATION_ID } from "../support/probot.ts";
import type { Comment } from "../world/github/state.ts";
import { eventually, FULL_NAME, NAME, OWNER, startE2eWorld, type E2eWorld } from "./world.ts";

/** GitHub's writes as the emulator answered them: the path and status of each, in order. */
const writes = (e: E2eWorld) => e.github.answered.filter((request) => request.method !== "GET" && !request.path.endsWith("/access_tokens"));

function whatGitHubShows(e: E2eWorld, sha: string) {
  const deployments = [...e.repo.deployments.values()].filter((deployment) => deployment.sha === sha);
  return {
    deployments,
    statusComments: [...e.repo.comments.values()].filter((comment) => comment.user.type === "Bot" && comment.body.startsWith("<!-- gantry:deployment ")),
    checkRuns: [...e.repo.checkRuns.values()].filter((run) => run.headSha === sha && run.name === "gantry/deploy production"),
    states: deployments[0]?.statuses.map((status) => status.state) ?? [],
  };
}

/** Waits for the deployment of `sha` to end, with traffic on the listener for the canary's judge. */
async function ended(e: E2eWorld, repo: RepoRef, sha: string): Promise<DeploymentView> {
  const load = startLoad(e.world.listeners.production.url, 100);
  return eventually("the deployment to end", async () =>
    (await e.gantry.controller.history(repo)).find((deployment) => deployment.sha === sha && TERMINAL_PHASES.has(deployment.phase)),
  120_000).catch(async (error: Error) => {
    const seen = (await e.gantry.controller.history(repo)).map((deployment) => `${deployment.phase} (${deployment.reason})`);
    throw new Error(`${error.message}: ${seen.join("; ") || "no deployment"}`);
  }).finally(() => load.stop());
}

describe("GitHub writes go through a paced queue per installation, end to end", () => {
  const SHA = randomSha();
  let e: E2eWorld;
  let REPO: RepoRef;

  beforeAll(async () => {
    e = await startE2eWorld();
    REPO = { owner: OWNER, repo: NAME, id: e.repo.id, installationId: TEST_INSTALLATION_ID };
    e.github.seedPermission(FULL_NAME, "writer", "write");
    await e.readyPullRequest(1, SHA, { version: "v2" });
  });
  afterAll(async () => {
    e?.github.refuseWrites(null);
    await e?.close();
  });

  it("holds every write while GitHub's secondary rate limit refuses them, waits as told, and sends them all, merged, once it lifts", async () => {
    // From the first write on, GitHub answers 403 with retry-after: 2 (a 60-second limit, shortened).
    e.github.refuseWrites({ retryAfterSeconds: 2 });
    const refusedFrom = e.github.answered.length;
    const deploy = await e.comment(1, "writer", "/deploy production");
    const lock = await e.comment(1, "writer", "/lock staging holding for the release");
    // The commands are decided and acted on without waiting for GitHub: the deployment runs to its end.
    const done = await ended(e, REPO, SHA);
    expect(done.phase, String(done.reason)).toBe("succeeded");
    const refused = e.github.answered.slice(refusedFrom).filter((request) => request.status === 403);
    expect(refused.length).toBeGreaterThan(0);
    // Honoured: after each refusal, no write reached GitHub before the retry-after it gave had passed.
    for (const [index, refusal] of refused.entries()) {
      const next = refused[index + 1];
      if (next) expect(next.receivedAt - refusal.answeredAt).toBeGreaterThanOrEqual(1_900);
    }
    e.github.refuseWrites(null);

    // Everything held arrives: the Deployment with its whole history, one status comment with the end, the check run, reactions and the reply.
    await eventually("🚀 on the /deploy", () => (deploy.comment.reactions.some((reaction) => reaction.content === "rocket") ? true : undefined), 30_000);
    await eventually("the reply to /lock", () => [...e.repo.comments.values()].find((comment) => comment.body.includes(`<!-- gantry:reply-to ${lock.comment.id} -->`)), 30_000);
    // The deployment has ended, so nothing new is queued: an empty outbox means every held write went out.
    await e.outboxSettled();
    const shown = whatGitHubShows(e, SHA);
    expect(shown.deployments).toHaveLength(1);
    expect(shown.states).toEqual(["queued", "in_progress", "success"]);
    expect(shown.statusComments).toHaveLength(1);
    expect(shown.statusComments[0]!.body).toContain("| phase | succeeded |");
    expect(shown.checkRuns).toEqual([expect.objectContaining({ status: "completed", conclusion: "success" })]);
    // Two subjects (the command's, the deployment's): each reaction once, in whichever order their turns came.
    expect(deploy.comment.reactions.map((reaction) => reaction.content).sort()).toEqual(["eyes", "rocket"]);
    // /lock staging is refused (no such environment here): 👀, the reply, 👎.
    expect(lock.comment.reactions.map((reaction) => reaction.content)).toEqual(["eyes", "-1"]);
    // Merged: the status comment was created once, with the latest view, not once per change held.
    const created = writes(e).filter((request) => request.status === 201 && request.path.endsWith("/issues/1/comments"));
    expect(created).toHaveLength(2);
    expect(e.github.violations).toEqual([]);
  }, 180_000);

  it("answers another installation's command while one installation's flood of refused commands is still being written", async () => {
    const other = e.github.seedRepo({ owner: "globex", name: "api", installationId: TEST_INSTALLATION_ID + 1 });
    e.github.seedPull("globex/api", { number: 5, user: "author", head: { ref: "feature", sha: randomSha() } });
    e.github.seedPermission("globex/api", "writer", "write");
    // Each request GitHub answers takes a while, as on a busy day.
    e.github.setLatency(100);
    try {
      const flood: Comment[] = [];
      for (let index = 0; index < 25; index += 1) flood.push((await e.comment(1, `stranger-${index}`, "/deploy production")).comment);
      const help = e.github.seedComment("globex/api", 5, "writer", "/help");
      const { payload } = await e.comment(1, "writer", "/help");
      payload.comment.id = help.id;
      payload.issue.number = 5;
      payload.repository = { ...payload.repository, id: other.id, name: "api", full_name: "globex/api", owner: { ...payload.repository.owner, login: "globex", id: other.owner.id } };
      (payload as unknown as { installation: { id: number } }).installation = { id: other.installationId };
      await e.deliver(payload);

      const replyTo = (comment: Comment, repo = e.repo) =>
        [...repo.comments.values()].find((candidate) => candidate.body.includes(`<!-- gantry:reply-to ${comment.id} -->`));
      await eventually("the other installation's reply", () => replyTo(help, other), 60_000);
      // The flood's writes go one at a time in their own installation: the other one's reply did not wait for them.
      const floodAnswered = flood.filter((comment) => replyTo(comment) !== undefined).length;
      expect(floodAnswered).toBeLessThan(flood.length);
      // 👎 comes after the reply: wait for it too.
      await eventually("every refusal to be answered", () => (flood.every((comment) => replyTo(comment) && comment.reactions.length === 2) ? true : undefined), 120_000);
      expect(flood.map((comment) => comment.reactions.map((reaction) => reaction.content).join())).toEqual(flood.map(() => "eyes,-1"));
    } finally {
      e.github.setLatency(0);
    }
  }, 180_000);
});

describe("two Gantry replicas on one PostgreSQL store", () => {
  const SHA = randomSha();
  let e: E2eWorld;
  let REPO: RepoRef;

  beforeAll(async () => {
    const location = await storeBackends.find((backend) => backend.name === "postgres")!.location();
    e = await startE2eWorld({ databaseUrl: location.options.databaseUrl! });
    await e.startReplica("replica-b");
    REPO = { owner: OWNER, repo: NAME, id: e.repo.id, installationId: TEST_INSTALLATION_ID };
    e.github.seedPermission(FULL_NAME, "writer", "write");
    await e.readyPullRequest(1, SHA, { version: "v2" });
  });
  afterAll(async () => {
    await e?.close();
  });

  it("create one Deployment, one status comment and one check run for a deployment, both draining the outbox", async () => {
    // Slow answers keep writes in flight while the other replica looks for work.
    e.github.setLatency(150);
    try {
      const deploy = await e.comment(1, "writer", "/deploy production");
      const done = await ended(e, REPO, SHA);
      expect(done.phase, String(done.reason)).toBe("succeeded");
      await eventually("🚀 on the /deploy", () => (deploy.comment.reactions.some((reaction) => reaction.content === "rocket") ? true : undefined), 30_000);
    } finally {
      e.github.setLatency(0);
    }
    const shown = whatGitHubShows(e, SHA);
    expect(shown.deployments).toHaveLength(1);
    expect(shown.states).toEqual(["queued", "in_progress", "success"]);
    expect(shown.statusComments).toHaveLength(1);
    expect(shown.checkRuns).toHaveLength(1);
    expect(e.github.violations).toEqual([]);
  }, 120_000);
});
