import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGantryApp } from "../../src/app/index.ts";
import { AuditLog } from "../../src/audit/audit-log.ts";
import { PermissionCache } from "../../src/commands/permission-cache.ts";
import { RefusalLimit } from "../../src/commands/refusal-limit.ts";
import { DeploymentNotifications } from "../../src/notify/notification-store.ts";
import type { Store } from "../../src/store/open-store.ts";
import { githubNock, type GithubNock } from "../support/github-nock.ts";
import { nockInstallationToken } from "../support/github-fixtures.ts";
import { InMemoryController } from "../support/in-memory-controller.ts";
import { examplePayload } from "../support/payloads.ts";
import { TEST_APP_ID, TEST_INSTALLATION_ID, testProbot } from "../support/probot.ts";
import { queuedCommandWrites } from "../support/command-writes.ts";
import { storeBackends } from "../support/stores.ts";

const REPO = "Codertocat/Hello-World";
const REPO_REF = { owner: "Codertocat", repo: "Hello-World", id: 1, installationId: 2 };
const CONFIG = `environments:
  production:
    aws: { region: us-east-1, roleArn: "arn:aws:iam::123456789012:role/gantry-web" }
    ecs: { cluster: c, services: { blue: web-blue, green: web-green } }
    targetGroups:
      blue: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/1
      green: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/2
    listeners: { production: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/3/4" }
`;

describe.each(storeBackends)("the refusal limit, on $name", (backend) => {
  const opened: Store[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });
  async function opening(location?: Awaited<ReturnType<typeof backend.location>>) {
    const store = await (location ?? (await backend.location())).open();
    opened.push(store);
    return store;
  }

  it("answers three refusals per user and repository in ten minutes, then goes quiet until the window moves on", async () => {
    let now = 1_000_000;
    const limit = new RefusalLimit(await opening(), { now: () => now });
    const taken = [];
    for (const kind of ["refused", "refused", "invalid", "refused"] as const) taken.push(await limit.take("acme/web", "mallory", kind));
    expect(taken).toEqual(["first", "reply", "reply", "quiet"]);
    expect(await limit.exhausted("acme/web", "mallory")).toBe(true);
    // Another user, or the same user in another repository, has a limit of their own.
    expect(await limit.take("acme/web", "eve", "refused")).toBe("first");
    expect(await limit.take("acme/api", "Mallory", "refused")).toBe("first");
    expect(await limit.take("ACME/web", "MALLORY", "refused")).toBe("quiet");
    now += 10 * 60_000 + 1;
    expect(await limit.exhausted("acme/web", "mallory")).toBe(false);
    expect(await limit.take("acme/web", "mallory", "refused")).toBe("first");
  });

  it("keeps the notice for a refusal: a typo first does not use it up", async () => {
    const limit = new RefusalLimit(await opening());
    expect(await limit.take("acme/web", "writer", "invalid")).toBe("reply");
    expect(await limit.take("acme/web", "writer", "refused")).toBe("first");
    expect(limit.notice("writer")).toBe(
      "After 3 refusals within 10 minutes, further refused commands from @writer in this repository get no reply: they are recorded in the audit log only.",
    );
  });

  it("is one limit for every replica on the store: two replicas refusing at once give three replies in all", async () => {
    const location = await backend.location();
    const replicas = [new RefusalLimit(await opening(location)), new RefusalLimit(await opening(location))];
    const taken = await Promise.all(Array.from({ length: 10 }, (_, index) => replicas[index % 2]!.take("acme/web", "mallory", "refused")));
    expect(taken.filter((outcome) => outcome !== "quiet")).toHaveLength(3);
    expect(taken.filter((outcome) => outcome === "first").length).toBeGreaterThanOrEqual(1);
    expect(await replicas[1]!.exhausted("acme/web", "mallory")).toBe(true);
  });
});

describe("the permission cache", () => {
  it("looks a user up once per minute per repository, sharing a lookup in flight", async () => {
    let now = 0;
    const cache = new PermissionCache({ now: () => now });
    let lookups = 0;
    const lookUp = async () => {
      lookups += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return "read";
    };
    expect(await Promise.all([cache.roleOf(REPO_REF, "mallory", lookUp), cache.roleOf(REPO_REF, "Mallory", lookUp)])).toEqual(["read", "read"]);
    expect(await cache.known(REPO_REF, "mallory")).toBe("read");
    now += 59_000;
    await cache.roleOf(REPO_REF, "mallory", lookUp);
    expect(lookups).toBe(1);
    await cache.roleOf({ ...REPO_REF, id: 2 }, "mallory", lookUp);
    expect(lookups).toBe(2);
    now += 2_000;
    expect(await cache.known(REPO_REF, "mallory")).toBeUndefined();
    await cache.roleOf(REPO_REF, "mallory", lookUp);
    expect(lookups).toBe(3);
  });

  it("does not keep a failed lookup", async () => {
    const cache = new PermissionCache();
    await expect(cache.roleOf(REPO_REF, "writer", () => Promise.reject(new Error("502")))).rejects.toThrow("502");
    expect(await cache.known(REPO_REF, "writer")).toBeUndefined();
    expect(await cache.roleOf(REPO_REF, "writer", async () => "write")).toBe("write");
  });
});

describe("a reader's flood of commands", () => {
  let store: Store;
  let gh: nock.Scope & GithubNock;
  beforeEach(async () => {
    store = await (await storeBackends[0]!.location()).open();
    gh = githubNock();
  });
  afterEach(async () => {
    nock.cleanAll();
    await store.close();
  });

  it("gets three replies, the first saying more will be quiet; the rest are audited with no GitHub call", async () => {
    const controller = new InMemoryController();
    const audit = new AuditLog(store);
    const queued = queuedCommandWrites(store);
    const probot = testProbot(createGantryApp({ chatOps: { store, controller, audit, links: new DeploymentNotifications(store), writes: queued.writes, appId: TEST_APP_ID } }));
    nockInstallationToken(gh);
    gh.get(new RegExp(`^/repos/${REPO}/contents/`)).times(3).reply(200, CONFIG, { "content-type": "text/plain; charset=utf-8" });
    gh.get(`/repos/${REPO}/collaborators/mallory/permission`).reply(200, { permission: "read", role_name: "read", user: { login: "mallory" } });
    gh.post(/\/issues\/comments\/\d+\/reactions$/).times(6).reply(201, { id: 1, content: "eyes" });
    gh.post(`/repos/${REPO}/issues/1/comments`).times(3).reply(201, { id: 9_001 });

    const commands = ["/deploy production", "/rollback production", "/deploy nowhere", "/abort production", "/lock production", "/deploy --sha"];
    for (const [index, body] of commands.entries()) {
      const payload = examplePayload<{ comment: { id: number; body: string; user: { login: string } }; sender: { login: string } }>(
        "issue_comment",
        (candidate) => candidate.action === "created",
      );
      payload.comment.id = 7_000_000 + index;
      payload.comment.body = body;
      payload.comment.user.login = "mallory";
      payload.sender.login = "mallory";
      await probot.receive({ id: `flood-${index}`, name: "issue_comment", payload } as never);
    }
    await queued.flush(await probot.auth(TEST_INSTALLATION_ID));

    const replies = gh.requests.filter((request) => request.method === "POST" && request.path.endsWith("/issues/1/comments")).map((request) => (request.body as { body: string }).body);
    expect(replies).toHaveLength(3);
    // The outbox sends answers by priority (a /rollback's first), so find the first command's by its text.
    const warned = replies.filter((reply) => reply.includes("further refused commands from @mallory in this repository get no reply"));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain("`/deploy production` refused by the **permission** gate");
    expect(gh.requests.filter((request) => request.path.endsWith("/collaborators/mallory/permission"))).toHaveLength(1);
    // 👀 and 👎 for each answered command; nothing for the quiet ones.
    expect(gh.requests.filter((request) => request.path.endsWith("/reactions"))).toHaveLength(6);
    const entries = await audit.recent(REPO, { limit: 10 });
    expect(entries.map((entry) => entry.decision).sort()).toEqual(["invalid", "invalid", "refused", "refused", "refused", "refused"]);
    expect(entries.filter((entry) => entry.reason.endsWith("not answered: refusal limit reached"))).toHaveLength(3);
    expect(controller.calls).toEqual([]);
  });
});
