import { afterEach, describe, expect, it } from "vitest";
import { AuditLog, type AuditEntry } from "../../src/audit/audit-log.ts";
import type { Store } from "../../src/store/open-store.ts";
import { storeBackends } from "../support/stores.ts";

const entry = (overrides: Partial<AuditEntry> = {}): Omit<AuditEntry, "at"> => ({
  repository: "acme/web",
  issueNumber: 7,
  commentId: 4_200_000_001,
  actor: "octocat",
  command: "/deploy production",
  environment: "production",
  decision: "refused",
  gate: "permission",
  reason: "@octocat has read access; deploying to production needs write",
  ...overrides,
});

describe.each(storeBackends)("audit log on $name", (backend) => {
  const opened: Store[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  async function auditLog(clock = { now: 1_700_000_000_000 }) {
    const store = await (await backend.location()).open();
    opened.push(store);
    return { log: new AuditLog(store, () => clock.now), clock };
  }

  it("reads back who did what where, and why, newest first", async () => {
    const { log, clock } = await auditLog();
    await log.record(entry());
    clock.now += 1_000;
    await log.record(entry({ actor: "hubot", decision: "accepted", gate: null, reason: "deployment d-1 started" }));

    const recent = await log.recent("acme/web");
    expect(recent).toEqual([
      { ...entry({ actor: "hubot", decision: "accepted", gate: null, reason: "deployment d-1 started" }), at: clock.now },
      { ...entry(), at: clock.now - 1_000 },
    ]);
  });

  it("keeps the order of entries written in the same millisecond, and limits and pages", async () => {
    const { log, clock } = await auditLog();
    for (const actor of ["a", "b", "c"]) await log.record(entry({ actor }));
    clock.now += 1;
    await log.record(entry({ actor: "d" }));
    expect((await log.recent("acme/web", { limit: 3 })).map((found) => found.actor)).toEqual(["d", "c", "b"]);
    expect((await log.recent("acme/web", { before: clock.now })).map((found) => found.actor)).toEqual(["c", "b", "a"]);
  });

  it("shows a repository only its own entries", async () => {
    const { log } = await auditLog();
    await log.record(entry({ repository: "acme/api" }));
    expect(await log.recent("acme/web")).toEqual([]);
  });
});
