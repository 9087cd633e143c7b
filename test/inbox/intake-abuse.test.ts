import { afterEach, describe, expect, it } from "vitest";
import type { RunningGantry } from "../../src/gantry.ts";
import { startTestGantry, storingApp } from "../support/gantry.ts";
import { examplePayload, signedDelivery } from "../support/payloads.ts";
import { TEST_WEBHOOK_SECRET } from "../support/probot.ts";
import { parsedResponse, postHead, RawConnection } from "../support/raw-http.ts";
import { storeBackends } from "../support/stores.ts";

const WEBHOOKS = "/api/github/webhooks";
const MB = 1024 * 1024;

const comment = (extra: Record<string, unknown> = {}) => ({ ...examplePayload("issue_comment", (payload) => payload.action === "created"), ...extra });

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: not within 10 s`);
}

async function answerOn(connection: RawConnection) {
  return parsedResponse(await connection.waitFor((received) => parsedResponse(received) !== undefined, 20_000))!;
}

/** A signed delivery whose headers and first half of the body are sent; `finish` sends the rest. */
async function slowDelivery(url: string, id: string, payload: unknown = comment()) {
  const delivery = await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", payload, id);
  const body = Buffer.from(delivery.body);
  const connection = await RawConnection.open(url);
  await connection.write(postHead(WEBHOOKS, { ...delivery.headers, "content-length": String(body.length) }));
  await connection.write(body.subarray(0, body.length / 2));
  return {
    connection,
    async finish() {
      await connection.write(body.subarray(body.length / 2));
      return answerOn(connection);
    },
  };
}

/** A delivery with a signature that cannot match: it takes a body slot like any other, and stores nothing. */
const probe = (url: string, bytes: number) =>
  fetch(`${url}${WEBHOOKS}`, {
    method: "POST",
    headers: { "x-github-event": "ping", "x-github-delivery": "probe", "x-hub-signature-256": "sha256=00" },
    body: "x".repeat(bytes),
  });

/** An app with a handler for comments, so the intake stores them. */

describe.each(storeBackends)("webhook intake under abuse, on $name", (backend) => {
  const running: RunningGantry[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((gantry) => gantry.stop()));
  });

  async function gantry(env: Record<string, string> = {}) {
    const { options } = await backend.location();
    const started = await startTestGantry(storingApp, { ...env, GANTRY_DATA_DIR: options.dataDir, ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}) });
    running.push(started);
    return started;
  }

  const storedIds = async (running: RunningGantry) =>
    (await running.store.db.selectFrom("webhook_deliveries").select("id").orderBy("id").execute()).map((row) => row.id);

  it.each([
    ["X-Hub-Signature-256", "x-hub-signature-256", 401],
    ["X-GitHub-Event", "x-github-event", 400],
    ["X-GitHub-Delivery", "x-github-delivery", 400],
  ])("refuses a delivery without %s before its body is sent, then closes cleanly", async (_name, missing, status) => {
    const server = await gantry();
    const delivery = await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", comment(), "no-header");
    const headers: Record<string, string> = { ...delivery.headers, "content-length": String(Buffer.byteLength(delivery.body)) };
    delete headers[missing];
    const connection = await RawConnection.open(server.url);
    await connection.write(postHead(WEBHOOKS, headers));

    const answer = await answerOn(connection);
    expect(answer.status).toBe(status);
    expect(answer.headers.connection).toBe("close");
    expect(answer.body).toContain(_name === "X-Hub-Signature-256" ? "X-Hub-Signature-256" : "X-GitHub-Event and X-GitHub-Delivery");
    // The body the client still sends is discarded; the connection then ends without a reset.
    await connection.write(delivery.body);
    expect((await connection.ended).error).toBeUndefined();
    expect(await storedIds(server)).toEqual([]);
  });

  it("answers 503 with Retry-After when the bodies in flight reach their count, and takes deliveries again once they finish", async () => {
    const server = await gantry({ GANTRY_INTAKE_MAX_BODIES: "2" });
    const slow = [await slowDelivery(server.url, "slow-1"), await slowDelivery(server.url, "slow-2")];
    await until(async () => (await probe(server.url, 10)).status === 503, "the third body refused");

    const third = await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", comment(), "third");
    const refused = await fetch(`${server.url}${WEBHOOKS}`, { method: "POST", headers: third.headers, body: third.body });
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(refused.headers.get("connection")).toBe("close");
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    expect((await Promise.all(slow.map((delivery) => delivery.finish()))).map((answer) => answer.status)).toEqual([202, 202]);
    const retried = await fetch(`${server.url}${WEBHOOKS}`, { method: "POST", headers: third.headers, body: third.body });
    expect(retried.status).toBe(202);
    expect(await storedIds(server)).toEqual(["slow-1", "slow-2", "third"]);
  });

  it("gives a body's place back when its sender hangs up or stalls past the request timeout", async () => {
    const server = await gantry({ GANTRY_INTAKE_MAX_BODIES: "1", GANTRY_HTTP_HEADERS_TIMEOUT_MS: "500", GANTRY_HTTP_REQUEST_TIMEOUT_MS: "1500" });
    const hungUp = await slowDelivery(server.url, "hung-up");
    await until(async () => (await probe(server.url, 10)).status === 503, "the body's place taken");
    hungUp.connection.destroy();
    await until(async () => (await probe(server.url, 10)).status === 401, "the place given back after the hang-up");

    const stalled = await slowDelivery(server.url, "stalled");
    await until(async () => (await probe(server.url, 10)).status === 503, "the body's place taken again");
    expect((await stalled.connection.ended).received).toMatch(/^HTTP\/1\.1 408 /);
    await until(async () => (await probe(server.url, 10)).status === 401, "the place given back after the timeout");
    expect(await storedIds(server)).toEqual([]);
  });

  it("answers 503 when a body would take the bytes buffered past the budget, while a small one still fits", async () => {
    const server = await gantry({ GANTRY_INTAKE_MAX_BUFFERED_MB: "1" });
    const big = await slowDelivery(server.url, "big", comment({ padding: "x".repeat(700 * 1024) }));
    await until(async () => (await probe(server.url, 400 * 1024)).status === 503, "a 400 KB body refused");

    const small = await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", comment(), "small");
    expect((await fetch(`${server.url}${WEBHOOKS}`, { method: "POST", headers: small.headers, body: small.body })).status).toBe(202);
    expect((await big.finish()).status).toBe(202);
    expect(await storedIds(server)).toEqual(["big", "small"]);
  });

  it.each([
    ["announced by Content-Length", { "content-length": String(26 * MB) }],
    ["sent chunked", { "transfer-encoding": "chunked" }],
  ])("answers a 26 MB body %s with a 413 the client can read while it is still sending", async (_case, framing) => {
    const server = await gantry();
    const chunked = "transfer-encoding" in framing;
    const delivery = await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", comment(), "huge");
    const connection = await RawConnection.open(server.url);
    await connection.write(postHead(WEBHOOKS, { ...delivery.headers, ...framing }));

    const piece = Buffer.alloc(MB, "x");
    let sent = 0;
    const sending = (async () => {
      while (sent < 26 * MB) {
        const ok = await connection.write(chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]) : piece);
        if (!ok) return;
        sent += piece.length;
      }
      if (chunked) await connection.write("0\r\n\r\n");
    })();

    const answer = await answerOn(connection);
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe("close");
    expect(JSON.parse(answer.body)).toMatchObject({ status: 413, message: "payload larger than 25 MB" });
    await sending;
    expect(sent).toBe(26 * MB);
    expect((await connection.ended).error).toBeUndefined();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await storedIds(server)).toEqual([]);
  });
});
