// Acknowledgement throughput and latency for signed issue_comment deliveries over loopback HTTP:
// Gantry (verify, store in the durable inbox, 202) beside a bare Probot app (verify, run a no-op
// handler, 200), both measured in this run on this machine.
import { createServer, Agent, request } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { createNodeMiddleware, Probot, type ApplicationFunction } from "probot";
import { startTestGantry } from "../test/support/gantry.ts";
import { examplePayload, signedDelivery } from "../test/support/payloads.ts";
import { silentLog, TEST_APP_ID, TEST_PRIVATE_KEY, TEST_WEBHOOK_SECRET, TestOctokit } from "../test/support/probot.ts";
import { TEST_DATABASE_URL, storeBackends } from "../test/support/stores.ts";

const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 2_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const WARMUP = 200;

interface Result {
  target: string;
  perSecond: number;
  p50: number;
  p99: number;
}

async function postAll(url: string, count: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const payload = examplePayload("issue_comment", (candidate) => candidate.action === "created");
  const deliveries = await Promise.all(
    Array.from({ length: count }, () => signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", payload, randomUUID())),
  );
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < deliveries.length) {
      const delivery = deliveries[next++]!;
      const started = process.hrtime.bigint();
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${url}/api/github/webhooks`, { method: "POST", headers: delivery.headers, agent }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("error", reject);
        req.end(delivery.body);
      });
      if (status >= 300) throw new Error(`${url} answered ${status}`);
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
  return latencies;
}

async function measure(target: string, url: string): Promise<Result> {
  await postAll(url, WARMUP);
  const started = performance.now();
  const latencies = (await postAll(url, DELIVERIES)).sort((a, b) => a - b);
  const seconds = (performance.now() - started) / 1_000;
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { target, perSecond: DELIVERIES / seconds, p50: at(0.5), p99: at(0.99) };
}

async function bareProbot(): Promise<{ url: string; close(): void }> {
  const probot = new Probot({ appId: TEST_APP_ID, privateKey: TEST_PRIVATE_KEY, secret: TEST_WEBHOOK_SECRET, Octokit: TestOctokit, log: silentLog });
  const middleware = await createNodeMiddleware((app) => {
    app.on("issue_comment", async () => {});
  }, { probot });
  const server = createServer((req, res) => {
    void middleware(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

export async function benchWebhookAck(): Promise<void> {
  // A handler that does nothing, so the deliveries are stored (an event no handler takes is not).
  const noop: ApplicationFunction = (app) => app.on("issue_comment", async () => {});
  const results: Result[] = [];

  const bare = await bareProbot();
  results.push(await measure("bare Probot (no inbox)", bare.url));
  bare.close();

  const sqlite = await startTestGantry(noop);
  results.push(await measure("Gantry, SQLite inbox", sqlite.url));
  await sqlite.stop();

  const postgres = await storeBackends[1]!.location();
  const onPostgres = await startTestGantry(noop, { DATABASE_URL: postgres.options.databaseUrl! });
  results.push(await measure(`Gantry, PostgreSQL inbox (${new URL(TEST_DATABASE_URL).host})`, onPostgres.url));
  await onPostgres.stop();

  console.log(`\nWebhook acknowledgement: ${DELIVERIES} signed issue_comment deliveries, ${CONCURRENCY} concurrent, loopback HTTP`);
  console.table(
    results.map((r) => ({
      target: r.target,
      "acks/s": Math.round(r.perSecond),
      "p50 ms": r.p50.toFixed(2),
      "p99 ms": r.p99.toFixed(2),
    })),
  );
}
