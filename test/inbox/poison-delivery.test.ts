import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import type { Store } from "../../src/store/open-store.ts";
import { testEnv } from "../support/gantry.ts";
import { examplePayload, signedDelivery } from "../support/payloads.ts";
import { TEST_WEBHOOK_SECRET } from "../support/probot.ts";
import { storeBackends } from "../support/stores.ts";

const MAX_ATTEMPTS = 3;

/** A Gantry process (test/fixtures/crashing-gantry.ts) that dies on a poison delivery. */
function startReplica(env: Record<string, string>) {
  const child = spawn(process.execPath, ["test/fixtures/crashing-gantry.ts"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "ignore"] });
  const processed: string[] = [];
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const url = new Promise<string>((resolve) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      const message = JSON.parse(line) as { url?: string; processed?: string };
      if (message.url) resolve(message.url);
      if (message.processed) processed.push(message.processed);
    });
  });
  return { url, processed, exit, exited: () => exited, kill: () => child.kill("SIGKILL") };
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: not within 20 s`);
}

async function post(url: string, id: string, body: string) {
  const payload = examplePayload<{ comment: { body: string } }>("issue_comment", (candidate) => candidate.action === "created");
  payload.comment.body = body;
  const delivery = await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", payload, id);
  const response = await fetch(`${url}/api/github/webhooks`, { method: "POST", headers: delivery.headers, body: delivery.body });
  expect(response.status).toBe(202);
}

describe.each(storeBackends)("a delivery that crashes the process, on $name", (backend) => {
  it(`is given up after ${MAX_ATTEMPTS} crashed attempts instead of crashing every replica forever`, { timeout: 120_000 }, async () => {
    const location = await backend.location();
    const store: Store = await location.open();
    const row = (id: string) => store.db.selectFrom("webhook_deliveries").selectAll().where("id", "=", id).executeTakeFirst();
    const env = testEnv({
      GANTRY_INBOX_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      GANTRY_INBOX_CONCURRENCY: "1",
      GANTRY_DATA_DIR: location.options.dataDir,
      ...(location.options.databaseUrl ? { DATABASE_URL: location.options.databaseUrl } : {}),
      LEASE_MS: "300",
    });
    let replica = startReplica(env);
    try {
      const url = await replica.url;
      await post(url, "healthy-before", "/help");
      await until(() => replica.processed.includes("healthy-before"), "the healthy delivery processed");
      await post(url, "poison", "poison");

      let crashes = 0;
      // Each replica claims the poison and dies, until one finds its attempts spent; six bounds today's endless loop.
      for (let started = 1; started <= 6; started += 1) {
        await until(async () => replica.exited() || (await row("poison"))?.status === "dead", "a crash or a give-up");
        if (!replica.exited()) break;
        crashes += 1;
        replica = startReplica(env);
        await replica.url;
      }

      expect(crashes).toBe(MAX_ATTEMPTS);
      const poison = await row("poison");
      expect(poison).toMatchObject({ status: "dead", attempts: MAX_ATTEMPTS + 1 });
      expect(poison!.last_error).toContain(`the process stopped while handling it in each of its ${MAX_ATTEMPTS} attempts`);
      // The replica that gave up on it is alive and takes new work.
      await post(await replica.url, "healthy-after", "/help");
      await until(() => replica.processed.includes("healthy-after"), "the next delivery processed");
      expect(replica.exited()).toBe(false);
    } finally {
      replica.kill();
      await replica.exit;
      await store.close();
    }
  });
});
