import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGantryApp } from "../../src/app/index.ts";
import { commentMayBeCommand } from "../../src/commands/handle-comment.ts";
import { AuditLog } from "../../src/audit/audit-log.ts";
import { DeploymentNotifications } from "../../src/notify/notification-store.ts";
import type { Store } from "../../src/store/open-store.ts";
import { githubNock, type GithubNock } from "../support/github-nock.ts";
import { nockConfigFile, nockInstallationToken } from "../support/github-fixtures.ts";
import { InMemoryController } from "../support/in-memory-controller.ts";
import { examplePayload } from "../support/payloads.ts";
import { queuedCommandWrites } from "../support/command-writes.ts";
import { TEST_APP_ID, TEST_INSTALLATION_ID, testProbot } from "../support/probot.ts";
import { storeBackends } from "../support/stores.ts";

const REPO = "Codertocat/Hello-World";
const HEAD = "a".repeat(40);
const OLDER = "b".repeat(40);

const environment = (extra = "") => `
    aws: { region: us-east-1, roleArn: "arn:aws:iam::123456789012:role/gantry-web" }
    ecs: { cluster: c, services: { blue: web-blue, green: web-green } }
    targetGroups:
      blue: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/1
      green: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/2
    listeners: { production: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/3/4" }${extra}`;
const CONFIG = `environments:
  staging:${environment()}
  production:${environment("\n    requires: [staging]")}
`;

interface CommentPayload {
  action: string;
  comment: { id: number; body: string; user: { login: string; type: string } };
  issue: { number: number; pull_request?: object };
  sender: { login: string; type: string };
}

let nextCommentId = 5_000_000_000;

const NO_WAIT = { attempts: 3, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => {} };

/** A reply as a person reads it: the hidden marker that ties it to its command left out. */
function withoutMarker(body: unknown): { body: string } | undefined {
  if (body === undefined) return undefined;
  return { body: (body as { body: string }).body.replace(/\n\n<!-- gantry:reply-to \d+ -->$/u, "") };
}

function commentPayload(body: string, options: { login?: string; onPullRequest?: boolean; action?: string } = {}) {
  const { login = "writer", onPullRequest = true, action = "created" } = options;
  const payload = examplePayload<CommentPayload>("issue_comment", (candidate) => candidate.action === action);
  payload.comment.id = nextCommentId++;
  payload.comment.body = body;
  payload.comment.user.login = login;
  payload.sender.login = login;
  if (onPullRequest) {
    payload.issue.pull_request = {
      url: `https://api.github.com/repos/${REPO}/pulls/1`,
      html_url: `https://github.com/${REPO}/pull/1`,
      diff_url: `https://github.com/${REPO}/pull/1.diff`,
      patch_url: `https://github.com/${REPO}/pull/1.patch`,
      merged_at: null,
    };
  }
  return payload;
}

const pullRequest = (head = REPO) => ({
  number: 1,
  user: { login: "author" },
  head: { sha: HEAD, ref: "feature", repo: { full_name: head } },
  base: { sha: OLDER, ref: "master", repo: { full_name: REPO } },
  state: "open",
  merged: false,
});

function nockPermission(gh: nock.Scope, login: string, role: string) {
  gh.get(`/repos/${REPO}/collaborators/${login}/permission`).reply(200, {
    permission: role === "maintain" ? "write" : role,
    role_name: role,
    user: { login },
  });
}

function nockChecks(gh: nock.Scope, conclusion: "success" | "failure") {
  gh.get(`/repos/${REPO}/commits/${HEAD}/check-runs`)
    .query({ check_name: "gantry/test", filter: "latest", app_id: TEST_APP_ID })
    .reply(200, { total_count: 1, check_runs: [{ id: 1, name: "gantry/test", status: "completed", conclusion, app: { id: TEST_APP_ID, slug: "gantry" } }] });
}

describe("comment commands", () => {
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

  /** One delivery to a fresh Probot with the repository config and the 👀 / 👎 reactions answered. */
  async function deliver(payload: CommentPayload | Record<string, unknown>, event = "issue_comment", id = "delivery-1") {
    nockInstallationToken(gh);
    nockConfigFile(gh, REPO, CONFIG);
    gh.post(/\/issues\/comments\/\d+\/reactions$/).optionally().times(2).reply(201, { id: 1, content: "eyes" });
    gh.post(`/repos/${REPO}/issues/1/comments`).optionally().reply(201, { id: 9_001 });
    const links = new DeploymentNotifications(store);
    const queued = queuedCommandWrites(store);
    const probot = testProbot(createGantryApp({ chatOps: { store, controller, audit, links, writes: queued.writes, appId: TEST_APP_ID, retry: NO_WAIT } }));
    await probot.receive({ id, name: event, payload } as never);
    await queued.flush(await probot.auth(TEST_INSTALLATION_ID));
  }

  const reply = () => withoutMarker(gh.requests.find((request) => request.method === "POST" && request.path.endsWith("/issues/1/comments"))?.body);
  const reactions = () => gh.requests.filter((request) => request.path.endsWith("/reactions")).map((request) => (request.body as { content: string }).content);
  const started = () => controller.calls.filter((call) => call.method === "start");

  it("deploys the pull request's head for a writer, to the default environment", async () => {
    nockPermission(gh, "writer", "write");
    gh.get(`/repos/${REPO}/pulls/1`).reply(200, pullRequest());
    nockChecks(gh, "success");
    const payload = commentPayload("/deploy");
    await deliver(payload);

    expect(started()).toEqual([
      {
        method: "start",
        request: expect.objectContaining({
          repo: { owner: "Codertocat", repo: "Hello-World", id: 186853002, installationId: 2 },
          environment: "staging",
          sha: HEAD,
          requestedBy: "writer",
          pullRequest: 1,
          config: expect.objectContaining({ environments: expect.any(Object) }),
        }),
      },
    ]);
    expect(reactions()).toEqual(["eyes"]);
    expect(reply()).toBeUndefined(); // the deployment's status comment is the answer
    expect(await audit.recent(REPO)).toEqual([
      expect.objectContaining({ actor: "writer", command: "/deploy", environment: "staging", decision: "accepted", commentId: payload.comment.id }),
    ]);
  });

  it("refuses a read-only user at the permission gate, says how to pass, and audits the attempt", async () => {
    nockPermission(gh, "reader", "read");
    await deliver(commentPayload("/deploy staging", { login: "reader" }));

    expect(started()).toEqual([]);
    expect(reply()?.body).toContain("refused by the **permission** gate: @reader has read access to Codertocat/Hello-World; staging needs write or more.");
    expect(reply()?.body).toContain("To pass: Ask a repository admin for write access");
    expect(reactions()).toEqual(["eyes", "-1"]);
    expect(await audit.recent(REPO)).toEqual([
      expect.objectContaining({ actor: "reader", command: "/deploy staging", decision: "refused", gate: "permission" }),
    ]);
  });

  it("refuses a pull request from a fork at the fork gate", async () => {
    nockPermission(gh, "writer", "admin");
    gh.get(`/repos/${REPO}/pulls/1`).reply(200, pullRequest("stranger/Hello-World"));
    await deliver(commentPayload("/deploy staging"));

    expect(started()).toEqual([]);
    expect(reply()?.body).toMatch(/refused by the \*\*no forks\*\* gate: #1 comes from stranger\/Hello-World/);
  });

  it("refuses a pull request whose checks failed at the checks gate", async () => {
    nockPermission(gh, "writer", "write");
    gh.get(`/repos/${REPO}/pulls/1`).reply(200, pullRequest());
    nockChecks(gh, "failure");
    await deliver(commentPayload("/deploy staging"));

    expect(started()).toEqual([]);
    expect(reply()?.body).toContain("refused by the **checks green** gate: On aaaaaaa: gantry/test failed.");
  });

  it("refuses production before staging runs the same commit, at the enforced-order gate", async () => {
    controller.setLive("staging", OLDER);
    nockPermission(gh, "writer", "maintain");
    gh.get(`/repos/${REPO}/pulls/1`).reply(200, pullRequest());
    nockChecks(gh, "success");
    await deliver(commentPayload("/deploy production"));

    expect(started()).toEqual([]);
    expect(reply()?.body).toContain(
      "refused by the **enforced order** gate: production requires staging to run aaaaaaa first; staging runs bbbbbbb.",
    );
    expect(reply()?.body).toContain("To pass: /deploy staging first, then /deploy production.");
  });

  it("deploys production once staging runs the commit", async () => {
    controller.setLive("staging", HEAD);
    nockPermission(gh, "writer", "write");
    gh.get(`/repos/${REPO}/pulls/1`).reply(200, pullRequest());
    nockChecks(gh, "success");
    await deliver(commentPayload("/deploy production"));

    expect(started()).toEqual([{ method: "start", request: expect.objectContaining({ environment: "production", sha: HEAD }) }]);
  });

  it("refuses a deploy to a locked environment, naming the holder", async () => {
    await controller.lock({ repo: { owner: "Codertocat", repo: "Hello-World", id: 186853002, installationId: 2 }, environment: "staging", by: "sre", reason: "incident 42", pullRequest: null });
    nockPermission(gh, "writer", "write");
    gh.get(`/repos/${REPO}/pulls/1`).reply(200, pullRequest());
    nockChecks(gh, "success");
    await deliver(commentPayload("/deploy staging"));

    expect(reply()?.body).toBe(
      "🛑 `/deploy staging` refused: staging is locked by @sre (`incident 42`); /unlock staging first\n\nTo pass: see `/status` for what runs in staging and who holds its lock, then comment again.",
    );
    expect(await audit.recent(REPO)).toEqual([expect.objectContaining({ decision: "refused", reason: "staging is locked by @sre (`incident 42`); /unlock staging first" })]);
  });

  it("queues a deploy while another deployment holds the environment, naming the holder", async () => {
    await controller.start({ repo: { owner: "Codertocat", repo: "Hello-World", id: 186853002, installationId: 2 }, environment: "staging", sha: OLDER, requestedBy: "octo", pullRequest: 7 } as never);
    nockPermission(gh, "writer", "write");
    gh.get(`/repos/${REPO}/pulls/1`).reply(200, pullRequest());
    nockChecks(gh, "success");
    await deliver(commentPayload("/deploy staging"));

    expect(reply()?.body).toMatch(/^⏳ Queued: staging is 🔒 deploying by @octo from #7 since .*\. `aaaaaaa` deploys when it is free/);
    expect(reactions()).toEqual(["eyes"]);
    expect(await audit.recent(REPO, { limit: 1 })).toEqual([expect.objectContaining({ decision: "queued" })]);
  });

  it("acts on a comment once: a second delivery of it does nothing", async () => {
    nockPermission(gh, "writer", "write");
    gh.get(`/repos/${REPO}/pulls/1`).reply(200, pullRequest());
    nockChecks(gh, "success");
    const payload = commentPayload("/deploy staging");
    await deliver(payload, "issue_comment", "delivery-1");
    const requestsAfterFirst = gh.requests.length;
    await deliver(payload, "issue_comment", "delivery-2");

    expect(started()).toHaveLength(1);
    expect(gh.requests.filter((request) => !request.path.includes("access_tokens"))).toHaveLength(requestsAfterFirst - 1);
    expect(await audit.recent(REPO)).toHaveLength(1);
  });

  it("acts once when two replicas receive the same comment at the same time", async () => {
    for (let replica = 0; replica < 2; replica += 1) {
      nockPermission(gh, "writer", "write");
      gh.get(`/repos/${REPO}/pulls/1`).optionally().reply(200, pullRequest());
      nockChecks(gh, "success");
    }
    const payload = commentPayload("/deploy staging");
    const deliveries = await Promise.allSettled([deliver(payload, "issue_comment", "delivery-1"), deliver(payload, "issue_comment", "delivery-2")]);

    expect(started()).toHaveLength(1);
    // The loser (if it ran while the winner worked) failed its delivery, so the inbox retries it.
    if (deliveries.some((delivery) => delivery.status === "rejected")) await deliver(payload, "issue_comment", "delivery-3");
    expect(started()).toHaveLength(1);
    expect(reactions()).toEqual(["eyes"]);
    expect(await audit.recent(REPO)).toHaveLength(1);
  });

  it("answers an error GitHub will not cure by retrying as a failure, truthfully: nothing was done", async () => {
    nockPermission(gh, "writer", "write");
    gh.get(`/repos/${REPO}/pulls/1`).reply(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest/pulls/pulls#get-a-pull-request" });
    await deliver(commentPayload("/deploy staging"));

    expect(started()).toEqual([]);
    expect(reply()?.body).toMatch(/^💥 `\/deploy staging` failed: HttpError: Not Found .*\. Nothing was done; comment the command again to retry\.$/u);
    expect(reactions()).toEqual(["eyes", "-1"]);
    expect(await audit.recent(REPO)).toEqual([expect.objectContaining({ decision: "failed", reason: expect.stringMatching(/^HttpError: Not Found/u) })]);
  });

  it("answers a bad command with the right form and the environments that exist", async () => {
    await deliver(commentPayload("/deploy qa"));
    expect(reply()?.body).toBe(
      [
        "⚠️ there is no environment `qa`",
        "",
        "The form is `/deploy [environment] [--sha SHA] [--dry-run] [--force]`.",
        "Environments: `staging` (default), `production`.",
      ].join("\n"),
    );
    expect(reactions()).toEqual(["eyes", "-1"]);
    expect(await audit.recent(REPO)).toEqual([expect.objectContaining({ decision: "invalid", environment: "qa" })]);
  });

  it("answers a malformed command with the problem and the right form", async () => {
    await deliver(commentPayload("/lock"));
    expect(reply()?.body).toMatch(/^⚠️ name the environment to lock\n\nThe form is `\/lock environment \[--reason "why"\]`\./);
  });

  it("does nothing for edited comments, comments by bots, and comments that are not commands", async () => {
    const bot = commentPayload("/deploy staging", { login: "dependabot[bot]" });
    bot.sender.type = "Bot";
    bot.comment.user.type = "Bot";
    for (const payload of [commentPayload("/deploy staging", { action: "edited" }), bot, commentPayload("> /deploy staging")]) {
      await deliver(payload);
    }
    expect(gh.requests).toEqual([]);
    expect(controller.calls).toEqual([]);
  });

  it("takes a sticky lock from a pull request and releases it when the pull request closes", async () => {
    nockPermission(gh, "writer", "write");
    await deliver(commentPayload('/lock production --reason "release freeze"'));
    expect(reply()?.body).toMatch(/^🔒 locked by @writer from #1 since .*: `release freeze`\. `\/unlock production` releases it; so does closing this pull request\.$/);

    const closed = examplePayload<{ number: number; pull_request: { number: number } }>("pull_request", (candidate) => candidate.action === "closed");
    closed.number = closed.pull_request.number = 1;
    await deliver(closed, "pull_request", "delivery-2");
    expect(controller.locks.size).toBe(0);
    expect(await audit.recent(REPO, { limit: 1 })).toEqual([
      expect.objectContaining({ command: "(pull request #1 closed)", environment: "production", reason: "released @writer's lock on production" }),
    ]);
  });

  it("echoes people's words without mentioning anyone or breaking the Markdown", async () => {
    nockPermission(gh, "writer", "write");
    await deliver(commentPayload('/lock production --reason "@octo-org/everyone ship it `now` | **really**"'));

    const body = reply()!.body;
    expect(body).not.toMatch(/@octo-org/u);
    expect(body).toContain("``@\u200Docto-org/everyone ship it `now` ¦ **really**``");
    expect(await audit.recent(REPO)).toEqual([expect.objectContaining({ command: '/lock production --reason "@octo-org/everyone ship it `now` | **really**"' })]);
  });

  it("shows environments, locks and the last commands on /status", async () => {
    controller.setLive("staging", HEAD, `sha256:${"c".repeat(64)}`);
    nockPermission(gh, "reader", "read");
    await deliver(commentPayload("/rollback staging", { login: "reader" }));
    await deliver(commentPayload("/status", { login: "reader" }), "issue_comment", "delivery-2");

    const status = withoutMarker(gh.requests.filter((request) => request.path.endsWith("/issues/1/comments")).at(-1)!.body)!;
    expect(status.body).toContain("| staging | `aaaaaaa` (sha256:cccccccccccc…) | — | — | — |");
    expect(status.body).toContain("| production | — | — | — | — |");
    expect(status.body).toMatch(/\*\*Recent commands\*\*\n- .* @reader `\/rollback staging` → refused \(permission\): @reader has read access/);
  });

  it("rolls back through the controller for a writer", async () => {
    await controller.start({ repo: { owner: "Codertocat", repo: "Hello-World", id: 186853002, installationId: 2 }, environment: "staging", sha: HEAD, requestedBy: "octo", pullRequest: 1 } as never);
    nockPermission(gh, "writer", "write");
    const payload = commentPayload("/rollback");
    await deliver(payload);

    expect(controller.calls.at(-1)).toEqual({
      method: "rollback",
      request: { repo: expect.any(Object), environment: "staging", by: "writer", idempotencyKey: `comment:${payload.comment.id}` },
    });
    expect(reply()?.body).toBe("✅ Rolling back staging: deployment of `aaaaaaa` by @octo, now rolling back.");
  });

  it("hands the controller a deployment named by --id", async () => {
    nockPermission(gh, "writer", "write");
    await deliver(commentPayload("/abort staging --id 3F2A9C1E"));

    expect(controller.calls.at(-1)).toEqual({ method: "abort", request: { repo: expect.any(Object), environment: "staging", by: "writer", id: "3f2a9c1e" } });
  });

  it("refuses /deploy --force to anyone but a repository admin, and starts nothing", async () => {
    nockPermission(gh, "writer", "maintain");
    nockPermission(gh, "writer", "maintain");
    await deliver(commentPayload("/deploy staging --force"));

    expect(started()).toEqual([]);
    expect(reply()?.body).toMatch(/^🛑 `\/deploy staging --force` refused by the \*\*break-glass\*\* gate: --force deploys over traffic changed outside Gantry, and only a repository admin may use it; @writer has maintain access\./);
    expect(reactions()).toEqual(["eyes", "-1"]);
  });
});

describe("which comments reach the command handler", () => {
  const withBody = (body: unknown) => ({ action: "created", comment: { body } });
  it.each([
    ["conversation", withBody("Looks good to me"), false],
    ["a slash that names no command", withBody("/shrug at the flaky test"), false],
    ["a command", withBody("/deploy production"), true],
    ["a command after blank lines", withBody("\n\n/rollback"), true],
    ["a command below other text, which is conversation", withBody("Thanks!\n/rollback"), false],
    ["a mistyped command, which is answered with the right form", withBody("/deploy --canary=banana"), true],
    ["a body that is not text, which the handler refuses with a reason", withBody(42), true],
    ["a body longer than GitHub allows", withBody(`/deploy ${"a".repeat(70_000)}`), true],
    ["a payload without a comment", { action: "created" }, true],
  ])("%s: %s", (_name, payload, reaches) => {
    expect(commentMayBeCommand(payload)).toBe(reaches);
  });
});
