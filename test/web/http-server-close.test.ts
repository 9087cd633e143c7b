import { Agent, request, type IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { startHttpServer } from "../../src/web/http-server.ts";
import { silentLog } from "../support/probot.ts";

describe("stopping the HTTP server", () => {
  it("answers a request in flight, with Connection: close, and stops without waiting out the keep-alive timeout", async () => {
    let arrived!: () => void;
    const inHandler = new Promise<void>((resolve) => (arrived = resolve));
    let answer!: () => void;
    const server = await startHttpServer({
      port: 0,
      host: "127.0.0.1",
      log: silentLog,
      // A keep-alive timeout as behind a load balancer: longer than this test may take.
      timeouts: { headersTimeoutMs: 10_000, requestTimeoutMs: 20_000, keepAliveTimeoutMs: 120_000 },
      routes: {
        "POST /api/github/webhooks": (_request, response) => {
          arrived();
          answer = () => response.writeHead(202, { "content-type": "application/json" }).end('{"status":202}');
        },
      },
    });
    const agent = new Agent({ keepAlive: true });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(`${server.url}/api/github/webhooks`, { method: "POST", agent }, resolve);
      req.on("error", reject);
      req.end("{}");
    });
    await inHandler;

    const closed = server.close();
    answer();
    const answered = await response;
    answered.resume();
    expect(answered.statusCode).toBe(202);
    expect(answered.headers.connection).toBe("close");
    await closed;
    // No new connection is taken.
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    agent.destroy();
  });
});
