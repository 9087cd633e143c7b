import { afterEach, describe, expect, it } from "vitest";
import { createGantryApp } from "../../src/app/index.ts";
import { AuditLog } from "../../src/audit/audit-log.ts";
import { DeliveryStore } from "../../src/inbox/delivery-store.ts";
import { receivedEvent } from "../../src/inbox/invalid-payload.ts";
import { inboxWorker } from "../../src/inbox/worker.ts";
import { DeploymentNotifications } from "../../src/notify/notification-store.ts";
import type { Store } from "../../src/store/open-store.ts";
import { InMemoryController } from "../support/in-memory-controller.ts";
import { examplePayload } from "../support/payloads.ts";
import { silentLog, TEST_APP_ID, testProbot } from "../support/probot.ts";
import { queuedCommandWrites } from "../support/command-writes.ts";
import { storeBackends } from "../support/stores.ts";

type Payload = Record<string, unknown> & { comment: Record<string, unknown>; repository: Record<string, unknown> };

describe.each(storeBackends)("a delivery whose payload lacks the fields a handler uses, on $name", (backend) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
  });

  async function process(event: string, payload: unknown) {
    store = await (await backend.location()).open();
    const deliveries = new DeliveryStore(store);
    const controller = new InMemoryController();
    const app = createGantryApp({ chatOps: { store, controller, audit: new AuditLog(store), links: new DeploymentNotifications(store), writes: queuedCommandWrites(store).writes, appId: TEST_APP_ID } });
    const probot = testProbot(app);
    const id = `invalid-${event}`;
    await deliveries.record({ id, event, payload: JSON.stringify(payload) });
    const worker = inboxWorker({
      deliveries,
      log: silentLog,
      concurrency: 1,
      maxAttempts: 8,
      pollMs: 10,
      process: (delivery) => probot.receive(receivedEvent(delivery) as never),
    });
    worker.start();
    try {
      for (let i = 0; i < 200 && (await deliveries.countByStatus()).dead === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      await worker.stop();
    }
    const row = await store.db.selectFrom("webhook_deliveries").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    return { row, controller };
  }

  it("is dead at its first attempt, with a reason naming the field and no value from it", async () => {
    const payload = examplePayload<Payload>("issue_comment", (candidate) => candidate.action === "created");
    payload.comment.body = "/deploy production";
    payload.comment.id = "x".repeat(10_000);
    const { row, controller } = await process("issue_comment", payload);
    expect(row.status).toBe("dead");
    expect(row.attempts).toBe(1);
    expect(row.last_error).toMatch(/^issue_comment payload does not have the fields Gantry uses: comment\.id: invalid_type \(expected number\)/u);
    expect(row.last_error).not.toContain("xxx");
    expect(controller.calls).toEqual([]);
  });

  it("is dead at once for a comment body longer than GitHub allows", async () => {
    const payload = examplePayload<Payload>("issue_comment", (candidate) => candidate.action === "created");
    payload.comment.body = `/deploy ${"a".repeat(70_000)}`;
    const { row } = await process("issue_comment", payload);
    expect([row.status, row.attempts]).toEqual(["dead", 1]);
    expect(row.last_error).toContain("comment.body: too_big");
  });

  it("is dead at once for a push without a commit to check", async () => {
    const payload = examplePayload<Payload>("push", () => true);
    delete payload.after;
    const { row } = await process("push", payload);
    expect([row.status, row.attempts]).toEqual(["dead", 1]);
    expect(row.last_error).toContain("after: invalid_type");
  });

  it("is dead at once for an event with no handler whose installation Probot cannot authenticate as", async () => {
    const payload = examplePayload<Payload>("check_run", () => true);
    payload.installation = { id: "2" };
    const { row } = await process("check_run", payload);
    expect([row.status, row.attempts]).toEqual(["dead", 1]);
    expect(row.last_error).toBe("check_run payload does not have the fields Gantry uses: installation.id: invalid_type (expected number)");
  });

  it("is dead at once for a closed pull request whose repository is not an object", async () => {
    const payload = examplePayload<Payload>("pull_request", (candidate) => candidate.action === "closed");
    payload.repository = "acme/web" as never;
    const { row } = await process("pull_request", payload);
    expect([row.status, row.attempts]).toEqual(["dead", 1]);
    expect(row.last_error).toContain("repository: invalid_type");
  });
});
