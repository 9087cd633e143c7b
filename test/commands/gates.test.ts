import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGantryApp } from "../../src/app/index.ts";
import { AuditLog } from "../../src/audit/audit-log.ts";
import { DeploymentNotifications } from "../../src/notify/notification-store.ts";
import type { Store } from "../../src/store/open-store.ts";
import { githubNock, type GithubNock } from "../support/github-nock.ts";
import { nockConfigFile, nockInstallationToken } from "../support/github-fixtures.ts";
import { InMemoryController } from "../support/in-memory-controller.ts";
import { writerPullRequestComment } from "../support/payloads.ts";
import { queuedCommandWrites } from "../support/command-writes.ts";
import { TEST_APP_ID, TEST_INSTALLATION_ID, testProbot } from "../support/probot.ts";
import { storeBackends } from "../support/stores.ts";

/** Gates a commenter with write access could fake or walk around on main, each through the webhook path. */

const REPO = "Codertocat/Hello-World";
const HEAD = "a".repeat(40);
const OTHER = "c".repeat(40);
const ELB = "arn:aws:elasticloadbalancing:us-east-1:123456789012";
const environment = (gates = "") => `
    aws: { region: us-east-1, roleArn: "arn:aws:iam::123456789012:role/gantry-web" }
    ecs: { cluster: c, services: { blue: web-blue, green: web-green } }
    targetGroups: { blue: "${ELB}:targetgroup/web-blue/1", green: "${ELB}:targetgroup/web-green/2" }
    listeners: { production: "${ELB}:listener/app/web/3/4" }${gates}`;
const CONFIG = `ci:
  requiredChecks:
    - { name: lint, app: github-actions }
    - { name: legacy-ci, status: true }
environments:
  staging:${environment()}
  reviewed:${environment("\n    gates: { checksGreen: false, approvedReview: true }")}
`;

let nextCommentId = 7_000_000_000;

describe("deploy gates that cannot be faked", () => {
  let store: Store;
  let controller: InMemoryController;
  let audit: AuditLog;
  let gh: nock.Scope & GithubNock;

  beforeEach(async () => {
    store = await (await storeBackends[0]!.location()).open();
    controller = new InMemoryController();
    audit = new AuditLog(store);
    gh = githubNock();
  });
  afterEach(async () => {
    nock.cleanAll();
    await store.close();
  });

  async function deploy(line: string): Promise<string | undefined> {
    const payload = writerPullRequestComment(nextCommentId++, line);
    nockInstallationToken(gh);
    nockConfigFile(gh, REPO, CONFIG);
    gh.post(/\/issues\/comments\/\d+\/reactions$/).times(2).optionally().reply(201, { id: 1, content: "eyes" });
    gh.post(`/repos/${REPO}/issues/1/comments`).optionally().reply(201, { id: 9_001 });
    gh.get(`/repos/${REPO}/collaborators/writer/permission`).reply(200, { permission: "write", role_name: "write", user: { login: "writer" } });
    const links = new DeploymentNotifications(store);
    const queued = queuedCommandWrites(store);
    const probot = testProbot(
      createGantryApp({ chatOps: { store, controller, audit, links, writes: queued.writes, appId: TEST_APP_ID, retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0, sleep: async () => {} } } }),
    );
    await probot.receive({ id: "delivery-1", name: "issue_comment", payload } as never);
    await queued.flush(await probot.auth(TEST_INSTALLATION_ID));
    const posted = gh.requests.find((request) => request.method === "POST" && request.path.endsWith("/issues/1/comments"));
    return (posted?.body as { body: string } | undefined)?.body;
  }

  const pullRequest = (overrides: { state?: string; merged?: boolean } = {}) => ({
    number: 1,
    state: overrides.state ?? "open",
    merged: overrides.merged ?? false,
    user: { login: "author" },
    head: { sha: HEAD, ref: "feature", repo: { full_name: REPO } },
    base: { sha: "b".repeat(40), ref: "master", repo: { full_name: REPO } },
  });

  type Run = { name: string; app: { id: number; slug: string }; conclusion?: string };
  function nockChecks(sha: string, runs: Run[], statuses = [{ context: "legacy-ci", state: "success" }]) {
    for (const name of ["gantry/test", "lint", "legacy-ci"]) {
      const ofName = runs.filter((run) => run.name === name).map((run, id) => ({ id, name, status: "completed", conclusion: run.conclusion ?? "success", app: run.app }));
      gh.get(`/repos/${REPO}/commits/${sha}/check-runs`)
        .query((query) => query.check_name === name)
        .optionally()
        .reply(200, { total_count: ofName.length, check_runs: ofName });
    }
    gh.get(`/repos/${REPO}/commits/${sha}/status`).optionally().reply(200, { state: "success", sha, total_count: statuses.length, statuses });
  }
  const GANTRY = { id: TEST_APP_ID, slug: "gantry" };
  const ACTIONS = { id: 15368, slug: "github-actions" };
  const allGreen = (): Run[] => [
    { name: "gantry/test", app: GANTRY },
    { name: "lint", app: ACTIONS },
  ];
  const started = () => controller.calls.filter((call) => call.method === "start");

  describe("--sha", () => {
    it("refuses the head of a fork's pull request, named on a pull request of the repository itself", async () => {
      gh.get(`/repos/${REPO}/pulls/1`).reply(200, pullRequest());
      gh.get(`/repos/${REPO}/compare/master...${OTHER}`).query(true).reply(200, { status: "diverged", ahead_by: 1, behind_by: 3, commits: [], files: [] });
      gh.get(`/repos/${REPO}/commits/${OTHER}/pulls`).reply(200, [{ number: 9, state: "open", head: { sha: OTHER, ref: "evil", repo: { full_name: "stranger/Hello-World" } } }]);
      nockChecks(OTHER, allGreen());
      const reply = await deploy(`/deploy staging --sha ${OTHER}`);

      expect(started()).toEqual([]);
      expect(reply).toContain(`refused by the **commit origin** gate: ccccccc is neither on master nor the head of an open pull request from a branch of ${REPO}.`);
      expect(reply).toContain("To pass: Deploy a commit of master");
      expect(await audit.recent(REPO)).toEqual([expect.objectContaining({ decision: "refused", gate: "commit origin" })]);
    });

    it("deploys a commit of the default branch", async () => {
      gh.get(`/repos/${REPO}/pulls/1`).reply(200, pullRequest());
      gh.get(`/repos/${REPO}/compare/master...${OTHER}`).query(true).reply(200, { status: "behind", ahead_by: 0, behind_by: 2, commits: [], files: [] });
      nockChecks(OTHER, allGreen());
      await deploy(`/deploy staging --sha ${OTHER}`);
      expect(started()).toEqual([{ method: "start", request: expect.objectContaining({ sha: OTHER }) }]);
    });

    it("deploys the head of another open pull request whose branch is in the repository", async () => {
      gh.get(`/repos/${REPO}/pulls/1`).reply(200, pullRequest());
      gh.get(`/repos/${REPO}/compare/master...${OTHER}`).query(true).reply(200, { status: "ahead", ahead_by: 1, behind_by: 0, commits: [], files: [] });
      gh.get(`/repos/${REPO}/commits/${OTHER}/pulls`).reply(200, [{ number: 4, state: "open", head: { sha: OTHER, ref: "topic", repo: { full_name: REPO } } }]);
      nockChecks(OTHER, allGreen());
      await deploy(`/deploy staging --sha ${OTHER}`);
      expect(started()).toHaveLength(1);
    });
  });

  it.each([
    { state: "closed", merged: false, words: "#1 is closed; closed pull requests cannot deploy.", howTo: "Reopen the pull request" },
    { state: "closed", merged: true, words: "#1 is merged; merged pull requests cannot deploy.", howTo: "Deploy the merged commit" },
  ])("refuses a deploy from a pull request that is $state (merged: $merged)", async ({ state, merged, words, howTo }) => {
    gh.get(`/repos/${REPO}/pulls/1`).reply(200, pullRequest({ state, merged }));
    nockChecks(HEAD, allGreen());
    const reply = await deploy("/deploy staging");
    expect(started()).toEqual([]);
    expect(reply).toContain(`refused by the **open pull request** gate: ${words}`);
    expect(reply).toContain(`To pass: ${howTo}`);
  });

  describe("required checks", () => {
    it("does not count a gantry/test check run that another app created", async () => {
      gh.get(`/repos/${REPO}/pulls/1`).reply(200, pullRequest());
      nockChecks(HEAD, [{ name: "gantry/test", app: { id: 999, slug: "impostor" } }, { name: "lint", app: ACTIONS }]);
      const reply = await deploy("/deploy staging");
      expect(started()).toEqual([]);
      expect(reply).toContain("refused by the **checks green** gate: On aaaaaaa: gantry/test has not reported.");
    });

    it("does not count a commit status for gantry/test, which anyone with write access can post", async () => {
      gh.get(`/repos/${REPO}/pulls/1`).reply(200, pullRequest());
      nockChecks(HEAD, [{ name: "lint", app: ACTIONS }], [{ context: "gantry/test", state: "success" }, { context: "legacy-ci", state: "success" }]);
      const reply = await deploy("/deploy staging");
      expect(started()).toEqual([]);
      expect(reply).toContain("gantry/test has not reported");
    });

    it("counts another check only from the app the config names, and a status only where the config allows it", async () => {
      gh.get(`/repos/${REPO}/pulls/1`).reply(200, pullRequest());
      nockChecks(HEAD, [{ name: "gantry/test", app: GANTRY }, { name: "lint", app: { id: 999, slug: "impostor" } }], [{ context: "legacy-ci", state: "success" }]);
      const reply = await deploy("/deploy staging");
      expect(started()).toEqual([]);
      expect(reply).toContain("On aaaaaaa: lint (from app github-actions) has not reported.");
      expect(reply).not.toContain("legacy-ci");
    });
  });

  describe("approved review", () => {
    const review = (login: string, commitId: string, state = "APPROVED") => ({ id: 1, user: { login }, state, commit_id: commitId, body: "" });
    function nockReviewer(login: string, role: string) {
      gh.get(`/repos/${REPO}/collaborators/${login}/permission`).reply(200, { permission: role, role_name: role, user: { login } });
    }

    it("does not count an approval of an earlier commit", async () => {
      gh.get(`/repos/${REPO}/pulls/1`).reply(200, pullRequest());
      gh.get(`/repos/${REPO}/pulls/1/reviews`).query(true).reply(200, [review("reviewer", OTHER)]);
      const reply = await deploy("/deploy reviewed");
      expect(started()).toEqual([]);
      expect(reply).toContain("refused by the **approved review** gate: #1 was approved before its head aaaaaaa was pushed.");
      expect(reply).toContain("To pass: Ask a reviewer to approve aaaaaaa");
    });

    it("does not count an approval by someone without write access", async () => {
      gh.get(`/repos/${REPO}/pulls/1`).reply(200, pullRequest());
      gh.get(`/repos/${REPO}/pulls/1/reviews`).query(true).reply(200, [review("outsider", HEAD)]);
      nockReviewer("outsider", "read");
      const reply = await deploy("/deploy reviewed");
      expect(started()).toEqual([]);
      expect(reply).toContain("#1 is approved only by people without write access");
    });

    it("deploys once a writer approved the current head", async () => {
      gh.get(`/repos/${REPO}/pulls/1`).reply(200, pullRequest());
      gh.get(`/repos/${REPO}/pulls/1/reviews`).query(true).reply(200, [review("outsider", HEAD), review("reviewer", HEAD)]);
      nockReviewer("outsider", "read");
      nockReviewer("reviewer", "write");
      await deploy("/deploy reviewed");
      expect(started()).toEqual([{ method: "start", request: expect.objectContaining({ environment: "reviewed", sha: HEAD }) }]);
    });
  });
});
