import { afterEach, describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/audit-log.ts";
import { CommandRecords } from "../../src/commands/command-records.ts";
import type { Store } from "../../src/store/open-store.ts";
import { storeBackends } from "../support/stores.ts";

describe.each(storeBackends)("command records on $name", (backend) => {
  const opened: Store[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  it("lets exactly one of two replicas work on a comment, however the attempts interleave", async () => {
    const location = await backend.location();
    // Opened one after the other: each runs the migrations at start-up.
    const replicas = [await location.open(), await location.open()];
    opened.push(...replicas);
    const records = replicas.map((store) => new CommandRecords<string, string>(store));

    const attempts = await Promise.all([...records, ...records].map((recordsOf) => recordsOf.begin(4_200_000_001, "acme/web")));
    expect(attempts.filter((attempt) => attempt.kind === "resume")).toHaveLength(1);
    expect(attempts.filter((attempt) => attempt.kind === "busy")).toHaveLength(3);
    expect((await records[0]!.begin(4_200_000_002, "acme/web")).kind).toBe("resume");
  });

  it("resumes a released command at its last step, and never after its reply", async () => {
    const store = await (await backend.location()).open();
    opened.push(store);
    const records = new CommandRecords<{ plan: string }, { said: string }>(store);
    const audit = new AuditLog(store);

    const first = await records.begin(7, "acme/web");
    if (first.kind !== "resume") throw new Error("expected to begin");
    await records.decided(first.lease, { plan: "deploy" });
    await records.release(first.lease);

    const second = await records.begin(7, "acme/web");
    expect(second).toMatchObject({ kind: "resume", step: "decided", decision: { plan: "deploy" }, outcome: null });
    if (second.kind !== "resume") return;
    const entry = { repository: "acme/web", issueNumber: 1, commentId: 7, actor: "a", command: "/deploy", environment: null, decision: "accepted" as const, gate: null, reason: "ok" };
    await records.acted(second.lease, { said: "ok" }, audit, entry);
    // A replica whose lease was taken over cannot write a step.
    await expect(records.decided(first.lease, { plan: "other" })).rejects.toThrow("lost the lease");
    await records.release(second.lease);

    const third = await records.begin(7, "acme/web");
    expect(third).toMatchObject({ kind: "resume", step: "acted", outcome: { said: "ok" } });
    if (third.kind !== "resume") return;
    await records.replied(third.lease);
    expect(await records.begin(7, "acme/web")).toEqual({ kind: "replied" });
    expect(await audit.recent("acme/web")).toHaveLength(1);
  });
});
