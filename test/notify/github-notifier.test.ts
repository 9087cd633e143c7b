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

const REPO = "acme/web";
const DIGEST = `sha256:${"d".repeat(64)}`;

function view(id: string, sha: string, phase: Phase, updatedAt: number, extra: Partial<DeploymentView> = {}): DeploymentView {
  return {
    id,
    repo: { owner: "acme", repo: "web", id: 1, installationId: TEST_INSTALLATION_ID },
    environment: "production",
    sha: sha.repeat(40),
    imageDigest: DIGEST,
    phase,
    step: 0,
    liveColour: "blue",
    weights: { blue: 100, green: 0 },
    verdicts: [],
    requestedBy: "octocat",
    pullRequest: 7,
    reason: null,
    timeToRestoreMs: null,
    createdAt: id === "d-1" ? 1_000 : 2_000,
    updatedAt,
    ...extra,
  };
}

const PASSING = {
  decision: "pass" as const,
  reason: "canary 5xx rate 0.10% vs 0.12%",
  canary: { requests: 1_000, errors: 1, p99Ms: 180 },
  control: { requests: 19_000, errors: 23, p99Ms: 175 },
  ratioInterval: [0.2, 3.1] as [number, number],
  probabilityWorse: 0.04,
  step: 0,
  windowStart: 0,
  windowEnd: 60_000,
};

describe.each(storeBackends)("GitHub notifier, store on $name", (backend) => {
  let store: Store;
  let gh: nock.Scope & GithubNock;
  let notifications: DeploymentNotifications;
  let notifier: GitHubNotifier;

  beforeEach(async () => {
    store = await (await backend.location()).open();
    gh = githubNock();
    nockInstallationToken(gh);
    const octokit = await testProbot().auth(TEST_INSTALLATION_ID);
    notifications = new DeploymentNotifications(store);
    notifier = new GitHubNotifier({ notifications, octokitFor: async () => octokit, dashboardUrl: (v) => `https://gantry.example/deployments/${v.id}` });
    // Ids by kind: check runs 100…, Deployments 200…, comments 300…, anything else 400….
    const ids = { run: 100, deployment: 200, comment: 300, other: 400 };
    const created = (kind: keyof typeof ids) => () => {
      const id = ids[kind]++;
      return { id, html_url: `https://github.com/${REPO}/runs/${id}` };
    };
    gh.post(`/repos/${REPO}/check-runs`).times(5).optionally().reply(201, created("run"));
    gh.patch(/^\/repos\/acme\/web\/check-runs\/\d+$/).times(20).optionally().reply(200, created("other"));
    gh.post(`/repos/${REPO}/deployments`).times(5).optionally().reply(201, created("deployment"));
    gh.post(/^\/repos\/acme\/web\/deployments\/\d+\/statuses$/).times(20).optionally().reply(201, created("other"));
    gh.post(`/repos/${REPO}/issues/7/comments`).times(5).optionally().reply(201, created("comment"));
    gh.patch(/^\/repos\/acme\/web\/issues\/comments\/\d+$/).times(20).optionally().reply(200, created("other"));
    gh.post(/^\/repos\/acme\/web\/issues\/comments\/\d+\/reactions$/).times(5).optionally().reply(201, created("other"));
  });
  afterEach(async () => {
    nock.cleanAll();
    await store.close();
  });

  const sent = (method: string, path: RegExp) => gh.requests.filter((request) => request.method === method && path.test(request.path));
  const statuses = () =>
    sent("POST", /\/deployments\/\d+\/statuses$/).map((request) => `${request.path.split("/")[5]}:${(request.body as { state: string }).state}`);

  async function play(views: DeploymentView[]) {
    for (const next of views) await notifier.deploymentChanged(next);
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
    expect(last).toContain("| 2 | ✅ pass | 1/1000 5xx (0.10%), p99 180 ms | 23/19000 5xx (0.12%), p99 175 ms | 0.20–3.10 | 0.040 | canary 5xx rate 0.10% vs 0.12% |");
    expect(last).toContain(`[check run](https://github.com/${REPO}/runs/100) · [dashboard](https://gantry.example/deployments/d-1)`);
  });

  it("reports a gantry/deploy <env> check run on the commit, completed with the outcome", async () => {
    await play(successfulRun("d-1", "a", 10));

    const [created] = sent("POST", /\/check-runs$/);
    expect(created!.body).toMatchObject({ name: "gantry/deploy production", head_sha: "a".repeat(40), status: "queued", external_id: "d-1" });
    expect(sent("PATCH", /\/check-runs\/\d+$/).at(-1)!.body).toMatchObject({ status: "completed", conclusion: "success" });
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
});
