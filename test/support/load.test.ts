// The load generator puts each failed request down to its cause, and tells a request that failed
// because this process was starved from one a user would have seen fail.
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { startLoad } from "./load.ts";

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Busy: what a starved process looks like from inside.
  }
}

describe("startLoad", () => {
  it("counts 5xx answers by the version that gave them, the balancer's own apart", async () => {
    let n = 0;
    const url = await serve((_req, res) => {
      n += 1;
      if (n % 2 === 0) res.writeHead(500, { "x-sample-version": "v9" }).end();
      else res.writeHead(502).end();
    });
    const load = startLoad(url, 100);
    await sleep(300);
    const stats = await load.stop();

    expect(stats.failed).toBe(stats.sent);
    expect(stats.failures["500 from v9"]! + stats.failures["502 from load balancer"]!).toBe(stats.sent);
    expect(Object.keys(stats.failures).sort()).toEqual(["500 from v9", "502 from load balancer"]);
    expect(stats.byVersion.v9).toEqual({ total: stats.failures["500 from v9"], failed: stats.failures["500 from v9"] });
    expect(stats.starved).toBe(0);
  });

  it("counts a reset connection and a silent server as failures a user would see", async () => {
    const resetUrl = await serve((req) => req.socket.destroy());
    const silentUrl = await serve(() => undefined);
    const resets = startLoad(resetUrl, 50);
    const silences = startLoad(silentUrl, 50, { timeoutMs: 200 });
    await sleep(300);
    const [reset, silent] = await Promise.all([resets.stop(), silences.stop()]);

    expect(reset.failures).toEqual({ reset: reset.sent });
    expect(silent.failures).toEqual({ timeout: silent.sent });
    expect([reset.starved, silent.starved]).toEqual([0, 0]);
  });

  it("puts requests that timed out while its own event loop stood still down as starved, not failed", async () => {
    const url = await serve((_req, res) => void sleep(150).then(() => res.writeHead(200, { "x-sample-version": "v1" }).end()));
    const load = startLoad(url, 20, { timeoutMs: 400 });
    await sleep(200);
    // Requests in flight now get their answer while the loop is blocked, but the client's timeout
    // fires first once it runs again: a failure of this process, not of the server.
    blockEventLoop(1500);
    await sleep(300);
    const stats = await load.stop();

    expect(stats.starved).toBeGreaterThan(0);
    expect(stats.failures).toEqual({});
    expect(stats.byVersion.v1!.total + stats.starved).toBe(stats.sent);
  });
});
