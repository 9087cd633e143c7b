import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeploymentView, Phase } from "../../src/deploy/api.ts";
import { GitHubNotifier } from "../../src/notify/github-notifier.ts";
import { DeploymentNotifications } from "../../src/notify/notification-store.ts";
import type { Store } from "../../src/store/open-store.ts";
import { githubNock, type GithubNock } from "../support/github-nock.ts";
import { nockInstallationToken } from "../support/github-fixtures.ts";
import { TEST_INSTALLATION_ID, testProbot } from "../support/probot.ts";
import { storeBackends } from "../support/stores.ts";
import { deploymentViewFixture } from "../support/deployment-fixture.ts";

const REPO = "acme/web";
const DIGEST = `sha256:${"d".repeat(64)}`;
/** 2026-12-01 05:42:10 UTC. */
const WARM_UNTIL = Date.UTC(2026, 11, 1, 5, 42, 10);

function view(id: string, sha: string, phase: Phase, updatedAt: number, extra: Partial<DeploymentView> = {}): DeploymentView {
  return deploymentViewFixture(phase, updatedAt, {
    id,
    sha: sha.repeat(40),
    imageDigest: DIGEST,
    warmUntil: phase === "cooling" ? WARM_UNTIL : null,
    createdAt: id === "d-1" ? 1_000 : 2_000,
    ...extra,
  });
}

const PASSING = {
  decision: "pass" as const,
  reason: "canary 5xx rate 0.10% vs 0.12%",
  canary: { requests: 1_000, errors: 1, p99Ms: 180 },
  control: { requests: 19_000, errors: 23, p99Ms: 175 },
  evidence: 0.04,
  step: 0,
  windowStart: 0,
  windowEnd: 60_000,
};

describe.each(storeBackends)("GitHub notifier, store on $name", (backend) => {
  let store: Store;
  let gh: nock.Scope & GithubNock;
  let notifications: DeploymentNotifications;
  let notifier: GitHubNotifier;
  /** Counts Deployment status posts; the one at index `failStatusPost` gets a 502. */
  let statusPosts = 0;
  let failStatusPost: number | null = null;
  /** Someone removed Gantry's reaction by hand: deleting it answers 404. */
  let reactionGone = false;

  beforeEach(async () => {
    store = await (await backend.location()).open();
    gh = githubNock();
    nockInstallationToken(gh);
    const octokit = await testProbot().auth(TEST_INSTALLATION_ID);
    notifications = new DeploymentNotifications(store);
    notifier = new GitHubNotifier({ notifications, octokitFor: async () => octokit, dashboardUrl: (v) => `https://gantry.example/deployments/${v.id}` });
    // Ids by kind: check runs 100…, Deployments 200…, comments 300…, reactions 500…, anything else 400….
    const ids = { run: 100, deployment: 200, comment: 300, other: 400, reaction: 500 };
    const created = (kind: keyof typeof ids) => () => {
      const id = ids[kind]++;
      return { id, html_url: `https://github.com/${REPO}/runs/${id}` };
    };
    gh.post(`/repos/${REPO}/check-runs`).times(5).optionally().reply(201, created("run"));
    gh.patch(/^\/repos\/acme\/web\/check-runs\/\d+$/).times(20).optionally().reply(200, created("other"));
    gh.post(`/repos/${REPO}/deployments`).times(5).optionally().reply(201, created("deployment"));
    statusPosts = 0;
    failStatusPost = null;
    gh.post(/^\/repos\/acme\/web\/deployments\/\d+\/statuses$/).times(20).optionally().reply(() =>
      statusPosts++ === failStatusPost ? [502, { message: "Server Error" }] : [201, created("other")()],
    );
    gh.post(`/repos/${REPO}/issues/7/comments`).times(5).optionally().reply(201, created("comment"));
    gh.patch(/^\/repos\/acme\/web\/issues\/comments\/\d+$/).times(20).optionally().reply(200, created("other"));
    gh.post(/^\/repos\/acme\/web\/issues\/comments\/\d+\/reactions$/).times(5).optionally().reply(201, created("reaction"));
    reactionGone = false;
    gh.delete(/^\/repos\/acme\/web\/issues\/comments\/\d+\/reactions\/\d+$/).times(5).optionally().reply(() =>
      reactionGone ? [404, { message: "Not Found" }] : [204, ""],
    );
  });
  afterEach(async () => {
    nock.cleanAll();
    await store.close();
  });

  const sent = (method: string, path: RegExp) => gh.requests.filter((request) => request.method === method && path.test(request.path));
  const statuses = () =>
    sent("POST", /\/deployments\/\d+\/statuses$/).map((request) => `${request.path.split("/")[5]}:${(request.body as { state: string }).state}`);

  /** Each view drained on its own, as when GitHub keeps up with every tick. */
  async function play(views: DeploymentView[]) {
    for (const next of views) await notifier.apply([next]);
  }

  const successfulRun = (id: string, sha: string, from: number) => [
    view(id, sha, "queued", from),
    view(id, sha, "preparing", from + 1),
    view(id, sha, "shifting", from + 2, { weights: { blue: 95, green: 5 } }),
    view(id, sha, "shifting", from + 3, { weights: { blue: 75, green: 25 }, step: 1, verdicts: [PASSING] }),
    view(id, sha, "cooling", from + 4, { weights: { blue: 0, green: 100 }, verdicts: [PASSING, { ...PASSING, step: 1 }] }),
    view(id, sha, "succeeded", from + 5, { weights: { blue: 0, green: 100 }, verdicts: [PASSING, { ...PASSING, step: 1 }] }),
  ];

  it("creates one Deployment and moves its statuses queued → in_progress → success", async () => {
    await play(successfulRun("d-1", "a", 10));

    const [deployment] = sent("POST", /\/deployments$/).map((request) => request.body);
    expect(sent("POST", /\/deployments$/)).toHaveLength(1);
    expect(deployment).toEqual({
      ref: "a".repeat(40),
      environment: "production",
      payload: { gantryDeploymentId: "d-1", imageDigest: DIGEST },
      description: "Gantry: aaaaaaa to production, requested by @octocat",
      auto_merge: false,
      required_contexts: [],
    });
    expect(statuses()).toEqual(["200:queued", "200:in_progress", "200:success"]);
  });

  it("edits one status comment in place as the deployment moves, never posting a second", async () => {
    await play(successfulRun("d-1", "a", 10));

    expect(sent("POST", /\/issues\/7\/comments$/)).toHaveLength(1);
    const edits = sent("PATCH", /\/issues\/comments\/\d+$/);
    expect(edits.map((request) => request.path)).toEqual(Array(edits.length).fill(`/repos/${REPO}/issues/comments/300`));
    expect(edits.length).toBeGreaterThanOrEqual(4);
    const last = (edits.at(-1)!.body as { body: string }).body;
    expect(last).toContain("### ✅ Deployed `aaaaaaa` to **production**");
    expect(last).toContain("| traffic | green 100% (new) · blue 0% |");
    expect(last).toContain("| 2 | 00:00:00–00:01:00 | — | ✅ pass | 1/1000 failed (0.10%), p99 180 ms | 23/19000 failed (0.12%), p99 175 ms | 0.04 | canary 5xx rate 0.10% vs 0.12% |");
    expect(last).toContain(`[check run](https://github.com/${REPO}/runs/100) · [dashboard](https://gantry.example/deployments/d-1)`);
  });

  it("reports a gantry/deploy <env> check run on the commit, completed with the outcome", async () => {
    await play(successfulRun("d-1", "a", 10));

    const [created] = sent("POST", /\/check-runs$/);
    expect(created!.body).toMatchObject({ name: "gantry/deploy production", head_sha: "a".repeat(40), status: "queued", external_id: "d-1" });
    // Completed once traffic is all on the new version (cooling); written only when its state changes:
    // the progress between is the status comment's.
    const states = sent("PATCH", /\/check-runs\/\d+$/).map((request) => request.body as { status?: string; conclusion?: string });
    expect(states.map((body) => `${body.status}:${body.conclusion ?? ""}`)).toEqual(["in_progress:", "completed:success"]);
  });

  it("reacts 🚀 once on the command that asked for a deployment that succeeded", async () => {
    const runs = successfulRun("d-1", "a", 10);
    await notifications.linkCommand(runs[0]!, { commentId: 555, issueNumber: 7 });
    await play([...runs, runs.at(-1)!]);

    expect(sent("POST", /\/reactions$/).map((request) => [request.path, request.body])).toEqual([
      [`/repos/${REPO}/issues/comments/555/reactions`, { content: "rocket" }],
    ]);
  });

  it("sends nothing for a newer view that shows nothing new (a tick that only waited on AWS)", async () => {
    await notifications.linkCommand(view("d-1", "a", "warming", 10), { commentId: 555, issueNumber: 7 });
    await play([view("d-1", "a", "warming", 10)]);
    const before = gh.requests.length;
    await play([view("d-1", "a", "warming", 11), view("d-1", "a", "warming", 12)]);
    expect(gh.requests.length).toBe(before);
  });

  it("changes nothing on GitHub for a view it has already applied, or an older one", async () => {
    const runs = successfulRun("d-1", "a", 10);
    await play(runs.slice(0, 3));
    const before = gh.requests.length;
    await play([runs[2]!, runs[1]!]);
    expect(gh.requests.length).toBe(before);
  });

  it("on a rollback marks the bad Deployment failed and the restored one active again", async () => {
    await play(successfulRun("d-1", "a", 10));
    await play([
      view("d-2", "b", "queued", 20),
      view("d-2", "b", "cooling", 21, { liveColour: "green", weights: { blue: 100, green: 0 } }),
      view("d-2", "b", "rolling-back", 22, { liveColour: "green" }),
      view("d-2", "b", "rolled-back", 23, { liveColour: "green", reason: "5xx rate 9.8% vs 0.4%", timeToRestoreMs: 4_200 }),
    ]);

    // 200 is d-1's Deployment, 201 d-2's.
    expect(statuses()).toEqual([
      "200:queued", "200:in_progress", "200:success",
      "201:queued", "201:success", "200:inactive",
      "201:in_progress", "201:failure", "200:success",
    ]);
    const last = (sent("PATCH", /\/issues\/comments\/\d+$/).at(-1)!.body as { body: string }).body;
    expect(last).toContain("### ↩️ Rolled back: `bbbbbbb` to **production**");
    expect(last).toContain("| why it stopped | 5xx rate 9.8% vs 0.4% |");
    expect(last).toContain("| time to restore | 4.2 s |");
  });

  it("starts a Deployment's history at queued even when its first view is already preparing", async () => {
    await play([view("d-1", "a", "preparing", 10), view("d-1", "a", "warming", 11)]);

    expect(sent("POST", /\/deployments$/).map((request) => (request.body as { payload: object }).payload)).toEqual([
      { gantryDeploymentId: "d-1", imageDigest: DIGEST },
    ]);
    expect(statuses()).toEqual(["200:queued", "200:in_progress"]);
  });

  it("sends a backlog of changes merged: the comment and check run once from the latest, a Deployment status per state", async () => {
    await notifications.linkCommand(view("d-1", "a", "queued", 10), { commentId: 555, issueNumber: 7 });
    await notifier.apply(successfulRun("d-1", "a", 10));

    // One write each for the comment, the check run and the reaction, all showing the end.
    expect(sent("POST", /\/issues\/7\/comments$/)).toHaveLength(1);
    expect(sent("PATCH", /\/issues\/comments\/\d+$/)).toHaveLength(0);
    expect((sent("POST", /\/issues\/7\/comments$/)[0]!.body as { body: string }).body).toContain("### ✅ Deployed `aaaaaaa`");
    expect(sent("POST", /\/check-runs$/).map((request) => request.body)).toEqual([
      expect.objectContaining({ status: "completed", conclusion: "success" }),
    ]);
    expect(sent("PATCH", /\/check-runs\/\d+$/)).toHaveLength(0);
    expect(sent("POST", /\/reactions$/).map((request) => request.body)).toEqual([{ content: "rocket" }]);
    // The Environments page keeps its history: each state the deployment went through, once.
    expect(statuses()).toEqual(["200:queued", "200:in_progress", "200:success"]);
  });

  it("shows a cooling deployment as live with the old colour warm until a time: check run success and 🚀", async () => {
    const runs = successfulRun("d-1", "a", 10);
    await notifications.linkCommand(runs[0]!, { commentId: 555, issueNumber: 7 });
    await play(runs.slice(0, 5));

    const comment = (sent("PATCH", /\/issues\/comments\/\d+$/).at(-1)!.body as { body: string }).body;
    expect(comment).toContain("### ✅ Live: `aaaaaaa` to **production**");
    expect(comment).toContain("| phase | live; the old colour (blue) is kept warm until 2026-12-01 05:42:10 UTC |");
    expect(comment).not.toContain("🚧");
    expect(sent("PATCH", /\/check-runs\/\d+$/).at(-1)!.body).toMatchObject({ status: "completed", conclusion: "success" });
    expect(sent("POST", /\/reactions$/).map((request) => request.body)).toEqual([{ content: "rocket" }]);
    expect(statuses().at(-1)).toBe("200:success");
  });

  it("a rollback during keep-warm opens a new check run, updates the comment, and swaps 🚀 for 👎", async () => {
    const runs = successfulRun("d-1", "a", 10);
    await notifications.linkCommand(runs[0]!, { commentId: 555, issueNumber: 7 });
    await play(runs.slice(0, 5));
    const cooling = runs[4]!;
    await play([
      { ...cooling, phase: "rolling-back", warmUntil: null, updatedAt: 20 },
      { ...cooling, phase: "rolled-back", warmUntil: null, updatedAt: 21, weights: { blue: 100, green: 0 }, reason: "rollback requested by @octocat", timeToRestoreMs: 40 },
    ]);

    // The successful run stays as it was (GitHub does not reopen a completed run); a new one tells the truth.
    const created = sent("POST", /\/check-runs$/);
    expect(created.map((request) => (request.body as { status: string }).status)).toEqual(["queued", "in_progress"]);
    expect(sent("PATCH", /\/check-runs\/101$/).map((request) => request.body)).toEqual([expect.objectContaining({ status: "completed", conclusion: "failure" })]);
    const comment = (sent("PATCH", /\/issues\/comments\/\d+$/).at(-1)!.body as { body: string }).body;
    expect(comment).toContain("### ↩️ Rolled back: `aaaaaaa` to **production**");
    expect(comment).toContain("[check run](https://github.com/acme/web/runs/101)");
    expect(sent("DELETE", /\/reactions\/\d+$/).map((request) => request.path)).toEqual([`/repos/${REPO}/issues/comments/555/reactions/500`]);
    expect(sent("POST", /\/reactions$/).map((request) => request.body)).toEqual([{ content: "rocket" }, { content: "-1" }]);
    expect(statuses().slice(-2)).toEqual(["200:in_progress", "200:failure"]);
  });

  it("sent again after a failure part-way, posts no Deployment status twice", async () => {
    await play(successfulRun("d-1", "a", 10).slice(0, 5));
    const before = statuses();
    const backlog = [
      view("d-1", "a", "rolling-back", 20, { liveColour: "blue" }),
      view("d-1", "a", "rolled-back", 21, { liveColour: "blue", reason: "canary failed" }),
    ];
    // GitHub takes the first status, then fails.
    failStatusPost = statusPosts + 1;
    await expect(notifier.apply(backlog)).rejects.toThrow();
    await notifier.apply(backlog);

    expect(statuses().slice(before.length)).toEqual(["200:in_progress", "200:failure", "200:failure"]);
    // The 502'd one was not acknowledged, so it was sent again; the accepted in_progress was not.
    expect(statuses().filter((status) => status === "200:in_progress")).toHaveLength(2);
  });

  it("takes back 🚀 on a rollback even when someone already removed it", async () => {
    const runs = successfulRun("d-1", "a", 10);
    await notifications.linkCommand(runs[0]!, { commentId: 555, issueNumber: 7 });
    await play(runs.slice(0, 5));
    reactionGone = true;
    await notifier.apply([{ ...runs[4]!, phase: "rolled-back", warmUntil: null, updatedAt: 20, reason: "rollback requested by @octocat" }]);

    expect(sent("DELETE", /\/reactions\/\d+$/)).toHaveLength(1);
    expect(sent("POST", /\/reactions$/).map((request) => request.body)).toEqual([{ content: "rocket" }, { content: "-1" }]);
  });
});
