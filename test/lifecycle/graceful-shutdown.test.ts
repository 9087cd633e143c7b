import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { awsDeployTargets } from "../../src/deploy/aws-targets.ts";
import type { RunningGantry } from "../../src/gantry.ts";
import { openStore } from "../../src/store/open-store.ts";
import { FAST_TIMING, TEST_CREDENTIALS, randomSha, until } from "../support/deploy-world.ts";
import { startTestGantry } from "../support/gantry.ts";
import { startLoad } from "../support/load.ts";
import { storeBackends } from "../support/stores.ts";
import { FULL_NAME, startE2eWorld, type E2eWorld } from "../e2e/world.ts";
import { TEST_PRIVATE_KEY, TEST_WEBHOOK_SECRET } from "../support/probot.ts";
import { SANDBOX_APP_ID, startSandbox, type Sandbox } from "../world/sandbox.ts";

const WEBHOOK_PATH = "/api/github/webhooks";

/** `npm start` as an operator runs it, in its own process group so a failed test can stop all of it. */
function npmStart(env: Record<string, string>): { npm: ChildProcess; listening: Promise<string>; lines: string[]; exited: Promise<number | null> } {
  const npm = spawn("npm", ["start", "--silent"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => npm.once("exit", resolve));
  const listening = new Promise<string>((resolve, reject) => {
    createInterface({ input: npm.stdout! }).on("line", (line) => {
      lines.push(line);
      const url = /Gantry listening on (\S+)/.exec(line)?.[1];
      if (url) resolve(url);
    });
    void exited.then((code) => reject(new Error(`npm start exited with ${code}: ${lines.join("\n")}`)));
  });
  npm.stderr!.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
  return { npm, listening, lines, exited };
}

/** The process `npm start` started (npm runs the script as `sh -c "exec node src/main.ts"`, so it is node itself). */
function childOf(pid: number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  if (children.length !== 1) throw new Error(`npm (${pid}) has children ${children.join(", ")}`);
  return children[0]!;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("graceful shutdown of `npm start`", () => {
  let sandbox: Sandbox | undefined;
  let npm: ChildProcess | undefined;
  let replica: RunningGantry | undefined;
  let load: ReturnType<typeof startLoad> | undefined;
  afterEach(async () => {
    await load?.stop();
    if (npm?.pid !== undefined && npm.exitCode === null && npm.signalCode === null) process.kill(-npm.pid, "SIGKILL");
    await replica?.stop();
    await sandbox?.close();
  });

  it("on SIGTERM mid-deployment stops taking webhooks, releases its leases, closes the store and exits 0; another replica continues at once", async () => {
    sandbox = await startSandbox({ healthCheckIntervalMs: 100, webhookSecret: TEST_WEBHOOK_SECRET });
    // A first step long enough to be sure the deployment is baking, between ticks, when the signal comes.
    sandbox.commitConfig({ strategy: { type: "canary", steps: [{ weight: 10, bake: "10s" }, { weight: 100, bake: "1s" }] }, postPromotionWatch: "1s" });
    const release = await sandbox.openPullRequest({ version: "v2" });
    const dataDir = mkdtempSync(join(tmpdir(), "gantry-sigterm-"));
    const port = await freePort();
    const started = npmStart({
      APP_ID: String(SANDBOX_APP_ID),
      PRIVATE_KEY: TEST_PRIVATE_KEY,
      WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      HOST: "127.0.0.1",
      PORT: String(port),
      GITHUB_API_URL: sandbox.github.url,
      AWS_ENDPOINT_URL: sandbox.aws.endpoint,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_REGION: sandbox.aws.region,
      GANTRY_DATA_DIR: dataDir,
      GANTRY_INSTANCE_ID: "replica-a",
      GANTRY_SHUTDOWN_TIMEOUT_MS: "20000",
    });
    npm = started.npm;
    const url = await started.listening;
    sandbox.webhookUrl = `${url}${WEBHOOK_PATH}`;
    // The judge needs requests to compare: users keep using the service throughout.
    load = startLoad(sandbox.world.listeners.production.url, 100);
    expect((await sandbox.comment(release.number, "writer", "/deploy production")).delivery.status).toBe(202);
    await until(async () => (await sandbox!.traffic()).green === 10, 60_000);

    const gantry = childOf(npm.pid!);
    process.kill(gantry, "SIGTERM");
    // npm ends with the code of the process it started: 0 only after a stop that finished inside the bound.
    expect(await started.exited).toBe(0);
    const logged = started.lines.join("\n");
    expect(logged).toContain("SIGTERM: stopping");
    expect(logged).toContain("released the leases of deployments this replica held");
    expect(logged).toContain("stopped cleanly");
    // No new webhooks: nothing listens any more.
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();

    // The store, closed cleanly, says no deployment is held and the replica has left.
    const store = await openStore({ dataDir });
    const rows = await store.db.selectFrom("deployments").select(["phase", "lease_owner", "lease_until"]).execute();
    const replicas = await store.db.selectFrom("replicas").select(["instance_id", "heartbeat_at"]).execute();
    await store.close();
    expect(rows).toEqual([{ phase: "shifting", lease_owner: null, lease_until: 0 }]);
    expect(replicas).toEqual([{ instance_id: "replica-a", heartbeat_at: 0 }]);
    // Traffic stayed where the deployment had put it.
    expect(await sandbox.traffic()).toEqual({ blue: 90, green: 10 });

    // Another replica on the same store takes the deployment over and finishes it.
    replica = await startTestGantry(undefined, { GITHUB_API_URL: sandbox.github.url, GANTRY_DATA_DIR: dataDir, GANTRY_INSTANCE_ID: "replica-b" }, {
      deployTargets: awsDeployTargets({ endpoint: sandbox.aws.endpoint, credentials: TEST_CREDENTIALS }),
      timing: FAST_TIMING,
    });
    await until(async () => (await replica!.store.db.selectFrom("deployments").select("phase").executeTakeFirst())?.phase === "succeeded", 120_000);
    expect(await sandbox.traffic()).toEqual({ blue: 0, green: 100 });
    // Users saw nothing of the hand-over.
    expect((await load.stop()).failures).toEqual({});
  }, 240_000);
});

describe("a shutdown cut short by its bound", () => {
  let e: E2eWorld | undefined;
  let load: ReturnType<typeof startLoad> | undefined;
  afterEach(async () => {
    await load?.stop();
    await e?.close();
  });

  it("releases the lease of a step still running, so another replica continues at once, and names what was unfinished", async () => {
    const location = await storeBackends.find((backend) => backend.name === "postgres")!.location();
    e = await startE2eWorld({ databaseUrl: location.options.databaseUrl! });
    e.github.seedPermission(FULL_NAME, "writer", "write");
    const sha = randomSha();
    await e.readyPullRequest(1, sha, { version: "v2" });
    load = startLoad(e.world.listeners.production.url, 100);
    // The first traffic shift hangs at AWS for longer than the shutdown may take. It lands while
    // replica-b is still baking the first step, whose weights it carries.
    e.aws.faults.add({ service: "elbv2", operation: "ModifyListener", kind: "latency", latencyMs: 2_000, count: 1 });
    await e.comment(1, "writer", "/deploy production");
    await until(() => e!.aws.faults.list().length === 0, 60_000);

    const outcome = await e.gantry.stop(500);
    expect(outcome.unfinished).toContain("deployment steps");

    // Replica-a let go of the deployment it was still working on, due at once, and left.
    const store = await location.open();
    const rows = await store.db.selectFrom("deployments").select(["phase", "lease_owner", "next_tick_at"]).execute();
    const replicas = await store.db.selectFrom("replicas").select(["instance_id", "heartbeat_at"]).execute();
    await store.close();
    expect(rows).toEqual([{ phase: "shifting", lease_owner: null, next_tick_at: expect.any(Number) }]);
    expect(rows[0]!.next_tick_at).toBeLessThanOrEqual(Date.now());
    expect(replicas).toEqual([{ instance_id: "replica-a", heartbeat_at: 0 }]);
    // Replica-b takes it over and finishes it.
    const replica = await e.startReplica("replica-b");
    await until(async () => (await replica.store.db.selectFrom("deployments").select("phase").executeTakeFirst())?.phase === "succeeded", 120_000);
    expect(await e.liveWeights()).toEqual({ blue: 0, green: 100 });
    expect((await load.stop()).failures).toEqual({});
  }, 240_000);
});
