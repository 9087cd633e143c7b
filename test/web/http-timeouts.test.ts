import { afterEach, describe, expect, it } from "vitest";
import type { RunningGantry } from "../../src/gantry.ts";
import { startTestGantry } from "../support/gantry.ts";
import { examplePayload, signedDelivery } from "../support/payloads.ts";
import { TEST_WEBHOOK_SECRET } from "../support/probot.ts";
import { postHead, RawConnection } from "../support/raw-http.ts";

const WEBHOOKS = "/api/github/webhooks";
const SHORT = { GANTRY_HTTP_HEADERS_TIMEOUT_MS: "500", GANTRY_HTTP_REQUEST_TIMEOUT_MS: "1500", GANTRY_HTTP_KEEP_ALIVE_TIMEOUT_MS: "500" };

/** Headers and half the body of a signed delivery, then silence. */
async function stalledDelivery(url: string, id: string): Promise<RawConnection> {
  const delivery = await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", examplePayload("issue_comment"), id);
  const connection = await RawConnection.open(url);
  await connection.write(postHead(WEBHOOKS, { ...delivery.headers, "content-length": String(Buffer.byteLength(delivery.body)) }));
  await connection.write(delivery.body.slice(0, 100));
  return connection;
}

/** Sends a request's headers one line every 100 ms, for 10 s unless the server closes first; resolves with the lines sent. */
async function slowLoris(connection: RawConnection): Promise<number> {
  await connection.write(`POST ${WEBHOOKS} HTTP/1.1\r\nhost: gantry.test\r\n`);
  let lines = 0;
  while (lines < 100 && (await connection.write(`x-loris-${lines}: ${"a".repeat(10)}\r\n`))) {
    lines += 1;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return lines;
}

const expectTimedOut = (received: string) => {
  // Answered 408, or closed before a byte was written (both leave the client in no doubt).
  if (received !== "") expect(received).toMatch(/^HTTP\/1\.1 408 /);
};

describe("HTTP server time bounds", () => {
  const running: RunningGantry[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((gantry) => gantry.stop()));
  });

  async function gantry(env: Record<string, string>) {
    const started = await startTestGantry(() => {}, env);
    running.push(started);
    return started;
  }

  it("answers 408 and closes a connection that stops sending in the middle of a body", async () => {
    const server = await gantry(SHORT);
    const connection = await stalledDelivery(server.url, "stalled");
    const ended = await connection.ended;
    expect(ended.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(await server.store.db.selectFrom("webhook_deliveries").select("id").execute()).toEqual([]);
  });

  it("closes a connection that never sends a byte", async () => {
    const server = await gantry(SHORT);
    const connection = await RawConnection.open(server.url);
    expectTimedOut((await connection.ended).received);
  });

  it("cuts a slow-loris sender at the header timeout instead of letting it trickle headers for 10 s", async () => {
    const server = await gantry(SHORT);
    const connection = await RawConnection.open(server.url);
    const lines = await slowLoris(connection);
    expect(lines).toBeLessThan(100);
    expectTimedOut((await connection.ended).received);
  });

  it("closes an idle keep-alive connection after the keep-alive timeout", async () => {
    const server = await gantry(SHORT);
    const connection = await RawConnection.open(server.url);
    await connection.write("GET /healthz HTTP/1.1\r\nhost: gantry.test\r\nconnection: keep-alive\r\n\r\n");
    await connection.waitFor((received) => received.includes('"status":"ok"'), 10_000);
    const ended = await connection.ended;
    expect(ended.received).toMatch(/^HTTP\/1\.1 200 /);
    expect(ended.error).toBeUndefined();
  });

  it("keeps answering /healthz while slow-loris and stalled connections are held open", async () => {
    const server = await gantry({ ...SHORT, GANTRY_HTTP_HEADERS_TIMEOUT_MS: "5000", GANTRY_HTTP_REQUEST_TIMEOUT_MS: "8000" });
    const lorises = await Promise.all(Array.from({ length: 20 }, () => RawConnection.open(server.url)));
    const sending = lorises.map((connection) => slowLoris(connection));
    const stalled = await Promise.all(Array.from({ length: 20 }, (_, i) => stalledDelivery(server.url, `stalled-${i}`)));
    for (let i = 0; i < 5; i += 1) {
      const health = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
      expect(health.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const held = [...lorises, ...stalled];
    expect(held.filter((connection) => connection.closed)).toEqual([]);
    for (const connection of held) connection.destroy();
    await Promise.all(sending);
  });

  it("stops with a stalled connection still open", async () => {
    const server = await gantry(SHORT);
    const connection = await stalledDelivery(server.url, "stalled-at-stop");
    running.splice(running.indexOf(server), 1);
    await server.stop();
    await connection.ended;
    expect(connection.closed).toBe(true);
  });

  it("with the default timeouts, answers a connection that stops sending before 30 s", { timeout: 60_000 }, async () => {
    const server = await gantry({});
    const connection = await stalledDelivery(server.url, "stalled-default");
    const started = Date.now();
    await connection.waitFor((received) => received.length > 0, 30_000).catch(() => connection.received);
    expect(connection.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
