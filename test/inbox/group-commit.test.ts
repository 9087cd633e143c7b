// Group commit in the intake: the deliveries of concurrent requests share one commit, and each is
// answered only after it. An acknowledged delivery is in the store (as another connection sees it);
// a commit that fails is answered 5xx for every delivery in it and stores none of them; duplicates
// in one batch are stored once; a process killed under load has stored every delivery it acknowledged.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { sql } from "kysely";
import type { RunningGantry } from "../../src/gantry.ts";
import { DeliveryStore } from "../../src/inbox/delivery-store.ts";
import type { Store } from "../../src/store/open-store.ts";
import { startTestGantry, storingApp, testEnv } from "../support/gantry.ts";
import { examplePayload, signedDelivery } from "../support/payloads.ts";
import { TEST_WEBHOOK_SECRET } from "../support/probot.ts";
import { storeBackends, type StoreBackend } from "../support/stores.ts";

const delivery = (id: string) => ({ id, event: "issue_comment", payload: `{"n":"${id}"}` });
const comment = () => examplePayload("issue_comment", (payload) => payload.action === "created");

/** A real failure of the store: a trigger that aborts the insert of `id` (every insert when `id` is "*"). */
async function refuseInsertsOf(store: Store, id: string): Promise<void> {
  if (store.kind === "sqlite") {
    const when = id === "*" ? "" : `WHEN NEW.id = '${id}'`;
    await sql.raw(`CREATE TRIGGER refuse_delivery BEFORE INSERT ON webhook_deliveries ${when} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`).execute(store.db);
  } else {
    const condition = id === "*" ? "true" : `new.id = '${id}'`;
    await sql.raw(`CREATE FUNCTION refuse_delivery() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF ${condition} THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN new; END $$`).execute(store.db);
    await sql.raw("CREATE TRIGGER refuse_delivery BEFORE INSERT ON webhook_deliveries FOR EACH ROW EXECUTE FUNCTION refuse_delivery()").execute(store.db);
  }
}

async function acceptInsertsAgain(store: Store): Promise<void> {
  await sql.raw(store.kind === "sqlite" ? "DROP TRIGGER refuse_delivery" : "DROP TRIGGER refuse_delivery ON webhook_deliveries").execute(store.db);
}

async function storedIds(store: Store): Promise<string[]> {
  return (await store.db.selectFrom("webhook_deliveries").select("id").orderBy("id").execute()).map((row) => row.id);
}

async function post(url: string, body: { body: string; headers: Record<string, string> }): Promise<number> {
  const response = await fetch(`${url}/api/github/webhooks`, { method: "POST", headers: body.headers, body: body.body });
  await response.arrayBuffer();
  return response.status;
}

function gantryEnv(backend: StoreBackend, location: Awaited<ReturnType<StoreBackend["location"]>>): Record<string, string> {
  return location.options.databaseUrl ? { DATABASE_URL: location.options.databaseUrl } : { GANTRY_DATA_DIR: location.options.dataDir };
}

describe.each(storeBackends)("group commit of the intake on $name", (backend) => {
  const opened: Store[] = [];
  const running: RunningGantry[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((gantry) => gantry.stop()));
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  async function open(location: Awaited<ReturnType<StoreBackend["location"]>>): Promise<Store> {
    const store = await location.open();
    opened.push(store);
    return store;
  }

  it("answers each delivery of a batch after the commit, when another connection already sees it", async () => {
    const location = await backend.location();
    const deliveries = new DeliveryStore(await open(location));
    const other = await open(location);
    const ids = Array.from({ length: 20 }, (_, n) => `d-${String(n).padStart(2, "0")}`);
    // Submitted in one turn of the event loop: one batch, one commit.
    const answered = ids.map((id) => deliveries.record(delivery(id)).then(async (outcome) => ({ outcome, seen: (await storedIds(other)).includes(id) })));
    expect(await Promise.all(answered)).toEqual(ids.map(() => ({ outcome: "queued", seen: true })));
    expect(await storedIds(other)).toEqual(ids);
  });

  it("stores a delivery once when a batch holds it several times, and reports the others as duplicates", async () => {
    const location = await backend.location();
    const store = await open(location);
    const deliveries = new DeliveryStore(store);
    expect(await deliveries.record(delivery("before"))).toBe("queued");
    const outcomes = await Promise.all(["a", "b", "a", "before", "a", "c"].map((id) => deliveries.record(delivery(id))));
    expect(outcomes).toEqual(["queued", "queued", "duplicate", "duplicate", "duplicate", "queued"]);
    expect(await storedIds(store)).toEqual(["a", "b", "before", "c"]);
  });

  it("rejects every delivery of a batch whose commit fails and stores none of it; the next batch commits", async () => {
    const location = await backend.location();
    const store = await open(location);
    const deliveries = new DeliveryStore(store);
    await refuseInsertsOf(store, "poison");
    const batch = await Promise.allSettled(["ok-1", "ok-2", "poison", "ok-3"].map((id) => deliveries.record(delivery(id))));
    expect(batch.map((result) => result.status)).toEqual(["rejected", "rejected", "rejected", "rejected"]);
    expect(await storedIds(store)).toEqual([]);
    // A redelivery of the innocent ones, in a batch of their own, is stored.
    expect(await Promise.all(["ok-1", "ok-2", "ok-3"].map((id) => deliveries.record(delivery(id))))).toEqual(["queued", "queued", "queued"]);
    expect(await storedIds(store)).toEqual(["ok-1", "ok-2", "ok-3"]);
  });

  it("over HTTP, answers 202 exactly for the deliveries stored, 503 for those that shared a commit with a refused one", async () => {
    const location = await backend.location();
    const gantry = await startTestGantry(storingApp, gantryEnv(backend, location), { processInbox: false });
    running.push(gantry);
    await refuseInsertsOf(gantry.store, "poison");
    const payload = comment();
    const ids = [...Array.from({ length: 30 }, () => randomUUID()), "poison"].sort();
    const statuses = await Promise.all(ids.map(async (id) => [id, await post(gantry.url, await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", payload, id))] as const));
    const stored = new Set(await storedIds(gantry.store));
    expect(statuses.find(([id]) => id === "poison")?.[1]).toBe(503);
    for (const [id, status] of statuses) {
      expect([202, 503]).toContain(status);
      expect({ id, stored: stored.has(id) }).toEqual({ id, stored: status === 202 });
    }
  });

  it("answers 503 to every request while the store refuses commits, stores nothing, and takes the redeliveries once it accepts them", async () => {
    const location = await backend.location();
    const gantry = await startTestGantry(storingApp, gantryEnv(backend, location), { processInbox: false });
    running.push(gantry);
    await refuseInsertsOf(gantry.store, "*");
    const payload = comment();
    const deliveries = await Promise.all(Array.from({ length: 12 }, (_, n) => signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", payload, `d-${n}`)));
    const refused = await Promise.all(deliveries.map(async (each) => fetch(`${gantry.url}/api/github/webhooks`, { method: "POST", headers: each.headers, body: each.body })));
    expect(refused.map((response) => response.status)).toEqual(deliveries.map(() => 503));
    expect(refused[0]!.headers.get("retry-after")).toBe("2");
    expect(await refused[0]!.json()).toEqual({ status: 503, message: "the delivery could not be stored; nothing was kept, send it again" });
    expect(await storedIds(gantry.store)).toEqual([]);

    await acceptInsertsAgain(gantry.store);
    expect(await Promise.all(deliveries.map((each) => post(gantry.url, each)))).toEqual(deliveries.map(() => 202));
    expect((await storedIds(gantry.store)).length).toBe(12);
  });

  it("has stored every delivery it acknowledged when the process is killed under load", async () => {
    const location = await backend.location();
    const env = { ...testEnv(), ...gantryEnv(backend, location) };
    const child = spawn(process.execPath, ["test/fixtures/intake-only.ts"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
    const [line] = (await once(child.stdout!, "data")) as [Buffer];
    const url = line.toString().trim();
    const payload = comment();
    const acknowledged: string[] = [];
    let killed = false;
    // Eight senders post until the process is gone; it is killed once 60 deliveries are acknowledged,
    // with others on their way.
    const sender = async () => {
      while (!killed) {
        const id = randomUUID();
        const status = await post(url, await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", payload, id)).catch(() => undefined);
        if (status === 202) acknowledged.push(id);
        if (acknowledged.length >= 60 && !killed) {
          killed = true;
          child.kill("SIGKILL");
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, sender));
    if (child.exitCode === null && child.signalCode === null) await once(child, "exit");

    const stored = new Set(await storedIds(await open(location)));
    expect(acknowledged.length).toBeGreaterThanOrEqual(60);
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
  }, 120_000);
});
