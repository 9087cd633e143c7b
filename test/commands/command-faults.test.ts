import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGantryApp } from "../../src/app/index.ts";
import { AuditLog } from "../../src/audit/audit-log.ts";
import type { RetryPolicy } from "../../src/commands/github-retry.ts";
import { DeploymentNotifications } from "../../src/notify/notification-store.ts";
import type { Store } from "../../src/store/open-store.ts";
import { githubNock, type GithubNock } from "../support/github-nock.ts";
import { nockInstallationToken } from "../support/github-fixtures.ts";
import { InMemoryController } from "../support/in-memory-controller.ts";
import { writerPullRequestComment } from "../support/payloads.ts";
import { queuedCommandWrites } from "../support/command-writes.ts";
import { TEST_APP_ID, TEST_INSTALLATION_ID, testProbot } from "../support/probot.ts";
import { storeBackends } from "../support/stores.ts";

/**
 * GitHub fails at each call on a command's path (502, secondary rate limit, timeout), once (cured by
 * Gantry's own retries) or for longer (cured by the delivery being retried). Every time the command
 * acts once, is audited once, and is answered once with the truth.
 */

const REPO = "Codertocat/Hello-World";
const HEAD = "a".repeat(40);
const ELB = "arn:aws:elasticloadbalancing:us-east-1:123456789012";
const CONFIG = `environments:
  staging:
    aws: { region: us-east-1, roleArn: "arn:aws:iam::123456789012:role/gantry-web" }
    ecs: { cluster: c, services: { blue: web-blue, green: web-green } }
    targetGroups: { blue: "${ELB}:targetgroup/web-blue/1", green: "${ELB}:targetgroup/web-green/2" }
    listeners: { production: "${ELB}:listener/app/web/3/4" }
`;
const REPO_REF = { owner: "Codertocat", repo: "Hello-World", installationId: 2 };

type FaultKind = "502" | "secondary rate limit" | "timeout";
type Point = "👀" | "config" | "permission" | "pull request" | "check runs" | "reply";
type CommandName = "deploy" | "rollback" | "approve" | "lock";

const PATHS: Record<CommandName, { line: string; points: Point[] }> = {
  deploy: { line: "/deploy staging", points: ["👀", "config", "permission", "pull request", "check runs"] },
  rollback: { line: "/rollback staging", points: ["👀", "config", "permission", "reply"] },
  approve: { line: "/approve staging", points: ["👀", "config", "permission", "reply"] },
  lock: { line: '/lock staging --reason "freeze"', points: ["👀", "config", "permission", "reply"] },
};

const RATE_LIMITED = {
  message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
  documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
};

let nextCommentId = 6_000_000_000;

describe("commands under GitHub faults", () => {
  let store: Store;
  let controller: InMemoryController;
  let audit: AuditLog;
  let gh: nock.Scope & GithubNock;
  let sleeps: number[];
  /** The comments as GitHub holds them, including any it took while answering with an error. */
  let comments: { id: number; body: string }[];
  let reactions: string[];

  beforeEach(async () => {
    store = await (await storeBackends[0]!.location()).open();
    controller = new InMemoryController();
    audit = new AuditLog(store);
    gh = githubNock();
    sleeps = [];
    comments = [];
    reactions = [];
    queued = queuedCommandWrites(store);
  });
  afterEach(async () => {
    nock.cleanAll();
    await store.close();
  });

  let queued: ReturnType<typeof queuedCommandWrites>;
  const retry: RetryPolicy = { attempts: 3, baseDelayMs: 100, maxDelayMs: 60_000, sleep: async (ms) => void sleeps.push(ms) };

  /** A fault GitHub answers with; at the reply, a 502 comes after GitHub stored the comment (it happens). */
  function fail(interceptor: nock.Interceptor, kind: FaultKind, storesComment = false): void {
    if (kind === "timeout") {
      interceptor.replyWithError(Object.assign(new Error("network timeout at: api.github.com"), { code: "ETIMEDOUT" }));
    } else if (kind === "502") {
      interceptor.reply(502, async (request: Request) => {
        if (storesComment) comments.push({ id: 9_000 + comments.length, body: ((await request.json()) as { body: string }).body });
        return { message: "Server Error" };
      });
    } else {
      interceptor.reply(403, RATE_LIMITED, { "retry-after": "7" });
    }
  }

  /** GitHub for one command: `times` faults of `kind` at `point`, then normal answers everywhere. */
  function github(point: Point, kind: FaultKind, times: number): void {
    const at: Record<Point, () => nock.Interceptor> = {
      "👀": () => gh.post(/\/issues\/comments\/\d+\/reactions$/),
      config: () => gh.get(/^\/repos\/Codertocat\/Hello-World\/contents\/\.github(%2F|\/)gantry\.yml/),
      permission: () => gh.get(`/repos/${REPO}/collaborators/writer/permission`),
      "pull request": () => gh.get(`/repos/${REPO}/pulls/1`),
      "check runs": () => gh.get(`/repos/${REPO}/commits/${HEAD}/check-runs`).query(true),
      reply: () => gh.post(`/repos/${REPO}/issues/1/comments`),
    };
    for (let failure = 0; failure < times; failure += 1) fail(at[point](), kind, point === "reply");

    for (let delivery = 0; delivery < 3; delivery += 1) nockInstallationToken(gh);
    at["👀"]()
      .times(20)
      .optionally()
      .reply(201, async (request: Request) => {
        const { content } = (await request.json()) as { content: string };
        reactions.push(content);
        return { id: 1, content };
      });
    at.config().times(20).optionally().reply(200, CONFIG, { "content-type": "text/plain; charset=utf-8" });
    at.permission().times(20).optionally().reply(200, { permission: "write", role_name: "write", user: { login: "writer" } });
    at["pull request"]()
      .times(20)
      .optionally()
      .reply(200, {
        number: 1,
        state: "open",
        merged: false,
        user: { login: "author" },
        head: { sha: HEAD, ref: "feature", repo: { full_name: REPO } },
        base: { sha: "b".repeat(40), ref: "master", repo: { full_name: REPO } },
      });
    at["check runs"]()
      .times(20)
      .optionally()
      .reply(200, { total_count: 1, check_runs: [{ id: 1, name: "gantry/test", status: "completed", conclusion: "success", app: { id: TEST_APP_ID, slug: "gantry" } }] });
    at.reply()
      .times(20)
      .optionally()
      .reply(201, async (request: Request) => {
        const comment = { id: 9_000 + comments.length, body: ((await request.json()) as { body: string }).body };
        comments.push(comment);
        return comment;
      });
    gh.get(`/repos/${REPO}/issues/1/comments`).query(true).times(20).optionally().reply(200, async () => comments.map((comment) => ({ ...comment, user: { login: "gantry[bot]" } })));
  }

  /** Delivers the comment; a delivery that fails is delivered again, as the inbox does, until one succeeds. */
  async function command(line: string): Promise<number> {
    const payload = writerPullRequestComment(nextCommentId++, line);
    const links = new DeploymentNotifications(store);
    for (let delivery = 1; delivery <= 3; delivery += 1) {
      const probot = testProbot(createGantryApp({ chatOps: { store, controller, audit, links, writes: queued.writes, appId: TEST_APP_ID, retry } }));
      try {
        await probot.receive({ id: `delivery-${delivery}`, name: "issue_comment", payload } as never);
        await queued.flush(await probot.auth(TEST_INSTALLATION_ID));
        return delivery;
      } catch {
        // retried, as the inbox would
      }
    }
    throw new Error("the command never completed");
  }

  const calls = (method: string) => controller.calls.filter((call) => call.method === method);
  const replies = () => comments.map((comment) => comment.body.replace(/\n\n<!-- gantry:reply-to \d+ -->$/u, ""));

  async function expectOutcome(name: CommandName, { eyes } = { eyes: true }): Promise<void> {
    switch (name) {
      case "deploy":
        expect(calls("start")).toHaveLength(1);
        expect(controller.deployments).toHaveLength(1);
        expect(replies()).toEqual([]); // the deployment's status comment is the answer
        break;
      case "rollback":
        expect(controller.deployments.map((deployment) => deployment.phase)).toEqual(["rolling-back"]);
        expect(replies()).toEqual(["✅ Rolling back staging: deployment of `aaaaaaa` by @octo, now rolling back."]);
        break;
      case "approve":
        expect(controller.deployments.map((deployment) => deployment.phase)).toEqual(["shifting"]);
        expect(calls("approve")).toHaveLength(1);
        expect(replies()).toHaveLength(1);
        expect(replies()[0]).toMatch(/^✅ Approved staging: deployment of `aaaaaaa` by @octo/);
        break;
      case "lock":
        expect(controller.locks.get("staging")).toMatchObject({ holder: "writer", reason: "freeze", kind: "sticky" });
        expect(replies()).toHaveLength(1);
        expect(replies()[0]).toMatch(/^🔒 locked by @writer from #1 since .*: `freeze`\. `\/unlock staging` releases it/);
        break;
    }
    const entries = await audit.recent(REPO);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.decision).toBe("accepted");
    if (eyes) expect(reactions).toContain("eyes");
    expect(reactions).not.toContain("-1");
  }

  async function prepare(name: CommandName): Promise<void> {
    if (name === "rollback" || name === "approve") {
      await controller.start({ repo: REPO_REF, environment: "staging", sha: HEAD, requestedBy: "octo", pullRequest: 1 } as never);
      controller.calls.length = 0;
    }
  }

  const WRITES: ReadonlySet<Point> = new Set(["👀", "reply"]);
  const cases = (Object.keys(PATHS) as CommandName[]).flatMap((name) =>
    PATHS[name].points.flatMap((point) => (["502", "secondary rate limit", "timeout"] as const).map((kind) => ({ name, point, kind }))),
  );

  it.each(cases)("/$name with a $kind at $point: acts once and answers once, truthfully", async ({ name, point, kind }) => {
    await prepare(name);
    github(point, kind, 1);
    expect(await command(PATHS[name].line)).toBe(1);
    await expectOutcome(name);
    // A read waits in the handler; a write waits in the outbox, as GitHub said.
    if (kind === "secondary rate limit") expect(WRITES.has(point) ? queued.waits : sleeps).toContain(7_000);
  });

  it.each((Object.keys(PATHS) as CommandName[]).flatMap((name) => PATHS[name].points.map((point) => ({ name, point }))))(
    "/$name with GitHub down at $point for longer than Gantry retries: a read's failure is resumed by the retried delivery, a write waits in the outbox; acted on once",
    async ({ name, point }) => {
      await prepare(name);
      // At the reply a refusal GitHub did not store: a stored one is found again and not retried.
      github(point, point === "reply" ? "secondary rate limit" : "502", retry.attempts);
      const deliveries = await command(PATHS[name].line);
      // A write never holds the command up: the outbox keeps it until GitHub takes it.
      expect(deliveries).toBe(WRITES.has(point) ? 1 : 2);
      await expectOutcome(name);
    },
  );

  it("/deploy queued behind another deployment, with GitHub refusing the reply for longer than Gantry retries: queued once, and says so once", async () => {
    await controller.start({ repo: REPO_REF, environment: "staging", sha: "b".repeat(40), requestedBy: "octo", pullRequest: 2 } as never);
    github("reply", "secondary rate limit", retry.attempts);
    expect(await command("/deploy staging")).toBe(1);

    expect(controller.deployments.map((deployment) => deployment.phase)).toEqual(["preparing", "queued"]);
    expect(replies()).toHaveLength(1);
    expect(replies()[0]).toMatch(/^⏳ Queued: staging is 🔒 deploying by @octo from #2 since .*\. `aaaaaaa` deploys when it is free/);
    expect(await audit.recent(REPO)).toEqual([expect.objectContaining({ decision: "queued" })]);
  });
});
