import { afterEach, describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/audit-log.ts";
import { DeliveryStore } from "../../src/inbox/delivery-store.ts";
import { InboxPruner } from "../../src/inbox/pruner.ts";
import type { Store } from "../../src/store/open-store.ts";
import { startTestGantry, testEnv } from "../support/gantry.ts";
import { silentLog } from "../support/probot.ts";
import { storeBackends } from "../support/stores.ts";

const DAY = 24 * 60 * 60 * 1_000;
const retention = { doneDays: 7, deadDays: 30 };

describe.each(storeBackends)("inbox pruning on $name", (backend) => {
  const opened: Store[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  async function inbox() {
    const location = await backend.location();
    const store = await location.open();
    opened.push(store);
    const clock = { now: 1_700_000_000_000 };
    const deliveries = new DeliveryStore(store, () => clock.now);
    const pruner = (on = deliveries) => new InboxPruner({ deliveries: on, retention, log: silentLog, batchSize: 3, pauseMs: 0, now: () => clock.now });
    /** Records `id` and ends it as `status` at the clock's time. */
    const finished = async (id: string, status: "done" | "dead") => {
      await deliveries.record({ id, event: "issue_comment", payload: JSON.stringify({ id, text: "x".repeat(10_000) }) });
      const claimed = (await deliveries.claimNext(60_000))!;
      expect(claimed.id).toBe(id);
      await (status === "done" ? deliveries.complete(claimed) : deliveries.fail(claimed, "boom", undefined));
    };
    const ids = async () => (await store.db.selectFrom("webhook_deliveries").select("id").orderBy("id").execute()).map((row) => row.id);
    return { store, location, clock, deliveries, pruner, finished, ids };
  }

  it("deletes processed deliveries after 7 days and dead ones after 30, in batches, keeping pending ones and the audit log", async () => {
    const { store, clock, deliveries, pruner, finished, ids } = await inbox();
    const start = clock.now;
    for (let i = 0; i < 10; i += 1) await finished(`done-old-${i}`, "done");
    await finished("dead", "dead");
    await new AuditLog(store, () => start).record({
      repository: "acme/web", issueNumber: 1, commentId: 7, actor: "octocat", command: "/deploy", environment: "production", decision: "accepted", gate: null, reason: "ok",
    });
    clock.now = start + 6 * DAY;
    await finished("done-young", "done");
    await deliveries.record({ id: "pending", event: "push", payload: "{}" });

    clock.now = start + 6 * DAY + 1;
    expect(await pruner().pruneNow()).toEqual({ done: 0, dead: 0 });

    clock.now = start + 8 * DAY;
    expect(await pruner().pruneNow()).toEqual({ done: 10, dead: 0 });
    expect(await ids()).toEqual(["dead", "done-young", "pending"]);

    clock.now = start + 31 * DAY;
    expect(await pruner().pruneNow()).toEqual({ done: 1, dead: 1 });
    expect(await ids()).toEqual(["pending"]);
    expect(await store.db.selectFrom("audit_log").select("command").execute()).toEqual([{ command: "/deploy" }]);
  });

  it("lets the intake store deliveries while it prunes, and two replicas pruning at once delete each row once", async () => {
    const { location, clock, deliveries, pruner, finished, ids } = await inbox();
    for (let i = 0; i < 60; i += 1) await finished(`old-${String(i).padStart(2, "0")}`, "done");
    clock.now += 8 * DAY;
    const other = await location.open();
    opened.push(other);
    const otherDeliveries = new DeliveryStore(other, () => clock.now);

    const [first, second, recorded] = await Promise.all([
      pruner().pruneNow(),
      pruner(otherDeliveries).pruneNow(),
      Promise.all(Array.from({ length: 20 }, (_, i) => deliveries.record({ id: `new-${String(i).padStart(2, "0")}`, event: "push", payload: "{}" }))),
    ]);

    expect(first.done + second.done).toBe(60);
    expect(recorded.every((outcome) => outcome === "queued")).toBe(true);
    expect(await ids()).toEqual(Array.from({ length: 20 }, (_, i) => `new-${String(i).padStart(2, "0")}`));
  });

  it("runs as soon as a replica starts it", async () => {
    const { clock, finished, ids, pruner } = await inbox();
    for (let i = 0; i < 5; i += 1) await finished(`old-${i}`, "done");
    clock.now += 8 * DAY;
    const running = pruner();
    running.start();
    await running.stop();
    // Stopped at once, it still finished the batch it had begun (3 rows) or all of them.
    expect((await ids()).length).toBeLessThanOrEqual(2);
  });
});

describe("inbox pruning in a running Gantry", () => {
  it("deletes, at start, deliveries older than GANTRY_INBOX_RETENTION_DAYS", async () => {
    const env = { GANTRY_INBOX_RETENTION_DAYS: "2", GANTRY_DATA_DIR: testEnv().GANTRY_DATA_DIR };
    const first = await startTestGantry(() => {}, env);
    const now = Date.now();
    const row = (id: string, processedAt: number) => ({
      id, event: "push", payload: "{}", received_at: processedAt, status: "done" as const, next_attempt_at: processedAt, claim_token: null, last_error: null, processed_at: processedAt,
    });
    await first.store.db.insertInto("webhook_deliveries").values([row("three-days-old", now - 3 * DAY), row("one-day-old", now - DAY)]).execute();
    await first.stop();

    const restarted = await startTestGantry(() => {}, env);
    try {
      for (let i = 0; i < 100; i += 1) {
        const ids = await restarted.store.db.selectFrom("webhook_deliveries").select("id").execute();
        if (ids.length === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await restarted.store.db.selectFrom("webhook_deliveries").select("id").execute()).toEqual([{ id: "one-day-old" }]);
    } finally {
      await restarted.stop();
    }
  });
});
