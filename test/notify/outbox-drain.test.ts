import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeploymentView, Phase } from "../../src/deploy/api.ts";
import { DeploymentOutbox } from "../../src/notify/deployment-outbox.ts";
import { GitHubNotifier } from "../../src/notify/github-notifier.ts";
import { commandSender } from "../../src/notify/command-writes.ts";
import { DeploymentNotifications } from "../../src/notify/notification-store.ts";
import { outboxDrain } from "../../src/notify/outbox-drain.ts";
import { GitHubOutbox } from "../../src/notify/outbox-store.ts";
import type { Store } from "../../src/store/open-store.ts";
import type { ClaimLoop } from "../../src/store/claim-loop.ts";
import type { ClaimedSubject } from "../../src/notify/outbox-store.ts";
import { eventually } from "../e2e/world.ts";
import { githubNock, type GithubNock } from "../support/github-nock.ts";
import { nockInstallationToken } from "../support/github-fixtures.ts";
import { silentLog, TEST_INSTALLATION_ID, testProbot } from "../support/probot.ts";
import { storeBackends } from "../support/stores.ts";
import { deploymentViewFixture } from "../support/deployment-fixture.ts";

const REPO = "acme/web";

function view(phase: Phase, updatedAt: number): DeploymentView {
  return deploymentViewFixture(phase, updatedAt, { pullRequest: null });
}

describe.each(storeBackends)("GitHub outbox drain, store on $name", (backend) => {
  let store: Store;
  let gh: nock.Scope & GithubNock;
  let clock: number;
  let outbox: GitHubOutbox;
  let observer: DeploymentOutbox;
  let drain: ClaimLoop<ClaimedSubject>;

  beforeEach(async () => {
    store = await (await backend.location()).open();
    gh = githubNock();
    nockInstallationToken(gh);
    const octokit = await testProbot().auth(TEST_INSTALLATION_ID);
    clock = 1_000_000;
    outbox = new GitHubOutbox(store, () => clock);
    const notifier = new GitHubNotifier({ notifications: new DeploymentNotifications(store), octokitFor: async () => octokit });
    drain = outboxDrain({ outbox, sendDeployment: (changes) => notifier.apply(changes), sendCommand: commandSender(async () => octokit), log: silentLog, instanceId: "replica-1", pollMs: 20, now: () => clock });
    observer = new DeploymentOutbox(outbox, () => drain.wake());
  });
  afterEach(async () => {
    await drain.stop();
    nock.cleanAll();
    await store.close();
  });

  const lastError = async () =>
    (await store.db.selectFrom("github_outbox").select(["last_error", "next_attempt_at"]).executeTakeFirst()) ?? { last_error: null, next_attempt_at: 0 };

  it("waits as long as GitHub's Retry-After says, then sends what is pending, merged", async () => {
    gh.post(`/repos/${REPO}/check-runs`).reply(403, { message: "You have exceeded a secondary rate limit" }, { "retry-after": "30" });
    await observer.deploymentChanged(view("preparing", 10));
    drain.start();
    await eventually("the refused write to be scheduled again", async () => ((await lastError()).last_error ? true : undefined), 10_000);
    expect((await lastError()).next_attempt_at).toBe(clock + 30_000);

    // More changes arrive while GitHub makes Gantry wait; nothing is sent before the time.
    await observer.deploymentChanged(view("warming", 11));
    await observer.deploymentChanged(view("shifting", 12));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(gh.requests.filter((request) => request.method !== "POST" || !request.path.includes("access_tokens"))).toHaveLength(1);

    gh.post(`/repos/${REPO}/check-runs`).reply(201, { id: 100, html_url: `https://github.com/${REPO}/runs/100` });
    gh.post(`/repos/${REPO}/deployments`).reply(201, { id: 200 });
    gh.post(/\/deployments\/200\/statuses$/).times(2).reply(201, { id: 1 });
    clock += 30_000;
    drain.wake();
    await eventually("the outbox to empty", async () => ((await outbox.pendingCount()) === 0 ? true : undefined), 10_000);

    // The check run is created once, from the latest change; the Deployment's history starts at queued.
    const checkRuns = gh.requests.filter((request) => request.path === `/repos/${REPO}/check-runs`);
    expect(checkRuns.at(-1)!.body).toMatchObject({ status: "in_progress", output: { title: "production: shifting traffic (step 1)" } });
    expect(gh.requests.filter((request) => /statuses$/.test(request.path)).map((request) => (request.body as { state: string }).state)).toEqual(["queued", "in_progress"]);
  });

  it("backs off after a server error and sends the change again", async () => {
    gh.post(`/repos/${REPO}/check-runs`).reply(502, { message: "Server Error" });
    await observer.deploymentChanged(view("queued", 10));
    drain.start();
    await eventually("the failed write to be scheduled again", async () => ((await lastError()).last_error ? true : undefined), 10_000);
    const { next_attempt_at: retryAt } = await lastError();
    // The first retry comes after about a second (with jitter).
    expect(retryAt - clock).toBeGreaterThanOrEqual(800);
    expect(retryAt - clock).toBeLessThanOrEqual(1_200);

    gh.post(`/repos/${REPO}/check-runs`).reply(201, { id: 100, html_url: `https://github.com/${REPO}/runs/100` });
    gh.post(`/repos/${REPO}/deployments`).reply(201, { id: 200 });
    gh.post(/\/deployments\/200\/statuses$/).reply(201, { id: 1 });
    clock = retryAt;
    drain.wake();
    await eventually("the outbox to empty", async () => ((await outbox.pendingCount()) === 0 ? true : undefined), 10_000);
    expect(gh.requests.filter((request) => request.path === `/repos/${REPO}/check-runs`)).toHaveLength(2);
  });
});
