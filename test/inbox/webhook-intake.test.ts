import { spawn } from "node:child_process";
import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import type { ApplicationFunction } from "probot";
import type { RunningGantry } from "../../src/gantry.ts";
import { startTestGantry, testEnv } from "../support/gantry.ts";
import { examplePayload, signedDelivery } from "../support/payloads.ts";
import { TEST_WEBHOOK_SECRET } from "../support/probot.ts";
import { signBody } from "../world/github/webhook.ts";

/** An app that records which deliveries its handler ran for; `gate` holds handlers until opened. */
function recordingApp() {
  const seen: string[] = [];
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const app: ApplicationFunction = (probot) => {
    probot.on("issue_comment", async (context) => {
      await gate;
      seen.push(context.id);
    });
  };
  return { app, seen, open };
}

async function post(url: string, delivery: { body: string; headers: Record<string, string> }) {
  return fetch(`${url}/api/github/webhooks`, { method: "POST", headers: delivery.headers, body: delivery.body });
}

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("condition not met within 5 s");
}

const comment = () => examplePayload("issue_comment", (payload) => payload.action === "created");

describe("webhook intake", () => {
  const running: RunningGantry[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((gantry) => gantry.stop()));
  });

  it("acknowledges before the handler runs, then processes the delivery once even when delivered twice", async () => {
    const { app, seen, open } = recordingApp();
    const gantry = await startTestGantry(app);
    running.push(gantry);
    const delivery = await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", comment(), "delivery-1");

    const first = await post(gantry.url, delivery);
    expect(first.status).toBe(202);
    expect(await first.json()).toMatchObject({ message: "queued" });
    expect(seen).toEqual([]);

    const second = await post(gantry.url, delivery);
    expect(second.status).toBe(202);
    expect(await second.json()).toMatchObject({ message: "duplicate" });

    open();
    await until(() => seen.length > 0);
    await until(async () => ((await (await fetch(`${gantry.url}/healthz`)).json()) as { inbox: { done: number } }).inbox.done === 1);
    expect(seen).toEqual(["delivery-1"]);
    await post(gantry.url, delivery);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen).toEqual(["delivery-1"]);
  });

  it.each([
    ["a wrong secret", async (body: string) => (await signedDelivery("not-the-secret", "issue_comment", JSON.parse(body), "x")).headers["x-hub-signature-256"]],
    ["no signature", async () => undefined],
    ["a tampered body", async (body: string) => (await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", { tampered: body.length }, "x")).headers["x-hub-signature-256"]],
  ])("answers 401 to a delivery with %s and stores nothing", async (_case, signatureFor) => {
    const { app, seen, open } = recordingApp();
    open();
    const gantry = await startTestGantry(app);
    running.push(gantry);
    const delivery = await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", comment(), "delivery-bad");
    const signature = await signatureFor(delivery.body);
    const headers: Record<string, string> = { ...delivery.headers };
    delete headers["x-hub-signature-256"];
    if (signature) headers["x-hub-signature-256"] = signature;

    const response = await post(gantry.url, { body: delivery.body, headers });
    expect(response.status).toBe(401);
    const rows = await gantry.store.db.selectFrom("webhook_deliveries").selectAll().execute();
    expect(rows).toEqual([]);
    expect(seen).toEqual([]);
  });

  it("acknowledges an event no handler takes without storing it, and a signed body that is not a JSON object with a 400", async () => {
    const { app, seen, open } = recordingApp();
    open();
    const gantry = await startTestGantry(app);
    running.push(gantry);
    const checkRun = await signedDelivery(TEST_WEBHOOK_SECRET, "check_run", examplePayload("check_run", () => true), "delivery-check-run");
    const ignored = await post(gantry.url, checkRun);
    expect(ignored.status).toBe(202);
    expect(await ignored.json()).toMatchObject({ message: "ignored" });

    // GitHub's other content type: the signature matches, the body is form-encoded.
    const form = `payload=${encodeURIComponent(JSON.stringify(comment()))}`;
    const formHeaders = { ...(await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", comment(), "delivery-form")).headers, "x-hub-signature-256": signBody(TEST_WEBHOOK_SECRET, form) };
    const refused = await post(gantry.url, { body: form, headers: formHeaders });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ message: "payload is not a JSON object; set the webhook content type to application/json" });

    expect(await gantry.store.db.selectFrom("webhook_deliveries").selectAll().execute()).toEqual([]);
    expect(seen).toEqual([]);
  });

  it("stores a signed body that starts as JSON without parsing it, and marks it dead at its first attempt when it does not parse", async () => {
    const { app, seen, open } = recordingApp();
    open();
    const gantry = await startTestGantry(app);
    running.push(gantry);
    const body = '{"action": "created", "comment": ';
    const headers = { ...(await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", comment(), "delivery-cut")).headers, "x-hub-signature-256": signBody(TEST_WEBHOOK_SECRET, body) };
    const response = await post(gantry.url, { body, headers });
    expect(response.status).toBe(202);
    await until(async () => (await gantry.store.db.selectFrom("webhook_deliveries").select("status").executeTakeFirst())?.status === "dead");
    const row = await gantry.store.db.selectFrom("webhook_deliveries").selectAll().executeTakeFirstOrThrow();
    expect(row.attempts).toBe(1);
    expect(row.last_error).toMatch(/^issue_comment payload cannot be read: /u);
    expect(seen).toEqual([]);
  });

  it("settles a conversation comment without handing it to a handler, while a command with broken fields still reaches one", async () => {
    const gantry = await startTestGantry(undefined);
    running.push(gantry);
    const broken = (body: string) => {
      const payload = comment() as { comment: { body: string }; repository?: unknown };
      payload.comment.body = body;
      delete payload.repository;
      return payload;
    };
    await post(gantry.url, await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", broken("Looks good to me, ship it"), "delivery-chat"));
    await post(gantry.url, await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", broken("/deploy production"), "delivery-command"));
    const rows = async () => gantry.store.db.selectFrom("webhook_deliveries").select(["id", "status", "attempts", "last_error"]).orderBy("id").execute();
    await until(async () => (await rows()).every((row) => row.status !== "pending"));
    const [chat, command] = await rows();
    // The comment handler would have refused the missing repository: only a screened delivery is done.
    expect(chat).toEqual({ id: "delivery-chat", status: "done", attempts: 1, last_error: null });
    expect(command).toMatchObject({ id: "delivery-command", status: "dead", attempts: 1 });
    expect(command!.last_error).toContain("repository: invalid_type");
  });

  it("processes after a restart a delivery whose process was killed between ack and processing", async () => {
    const env = testEnv();
    const child = spawn(process.execPath, ["test/fixtures/intake-only.ts"], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const [line] = (await once(child.stdout!, "data")) as [Buffer];
    const url = line.toString().trim();
    const delivery = await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", comment(), "delivery-crash");
    expect((await post(url, delivery)).status).toBe(202);
    child.kill("SIGKILL");
    await once(child, "exit");

    const { app, seen, open } = recordingApp();
    open();
    const restarted = await startTestGantry(app, { GANTRY_DATA_DIR: env.GANTRY_DATA_DIR });
    running.push(restarted);
    await until(() => seen.length > 0);
    expect(seen).toEqual(["delivery-crash"]);
  });

  it("retries a delivery whose handler failed", async () => {
    let calls = 0;
    const gantry = await startTestGantry((probot) => {
      probot.on("issue_comment", async () => {
        calls += 1;
        if (calls === 1) throw new Error("GitHub had a bad moment");
      });
    });
    running.push(gantry);
    await post(gantry.url, await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", comment(), "delivery-retry"));
    await until(() => calls === 1);
    const [row] = await gantry.store.db.selectFrom("webhook_deliveries").selectAll().execute();
    expect(row).toMatchObject({ status: "pending", attempts: 1 });
    expect(row!.last_error).toContain("GitHub had a bad moment");
    // Make the scheduled retry due now instead of waiting out the backoff.
    await gantry.store.db.updateTable("webhook_deliveries").set({ next_attempt_at: 0 }).execute();
    await until(() => calls === 2);
    await until(async () => (await gantry.store.db.selectFrom("webhook_deliveries").select("status").executeTakeFirst())?.status === "done");
  });

  it("answers /healthz with the store kind, inbox counts, GitHub writes waiting in the outbox and test shards", async () => {
    const gantry = await startTestGantry(() => {});
    running.push(gantry);
    const response = await fetch(`${gantry.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", store: "sqlite", inbox: { pending: 0, done: 0, dead: 0 }, outbox: { pending: 0 }, shards: { queued: 0, running: 0 } });
  });
});
