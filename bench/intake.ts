// Webhook intake throughput, latency and idle memory, measured from outside the server: Gantry runs
// as its own process (`node src/main.ts`, as in production), and so does the baseline, a bare Probot
// app; autocannon, in this process, sends signed issue_comment deliveries over 16 connections, each
// with a fresh X-GitHub-Delivery id so every acknowledgement is a new row in the inbox.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import autocannon, { type Result } from "autocannon";
import pg from "pg";
import { gantryNodeArgs } from "../test/support/gantry-command.ts";
import { examplePayload, signedDelivery } from "../test/support/payloads.ts";
import { TEST_APP_ID, TEST_PRIVATE_KEY, TEST_WEBHOOK_SECRET } from "../test/support/probot.ts";
import { storeBackends, TEST_DATABASE_URL } from "../test/support/stores.ts";
import { recordBenchResults } from "./results.ts";

const CONNECTIONS = 16;
const SECONDS = Number(process.env.BENCH_INTAKE_SECONDS ?? 4);
const WARMUP_SECONDS = 1;
const PACED_RATE = 500;
/** How long a freshly started server sits before its resident memory is read. */
const IDLE_MS = 3_000;
const WEBHOOK_PATH = "/api/github/webhooks";
const BARE_PROBOT = fileURLToPath(new URL("./bare-probot-server.ts", import.meta.url));
const SERVER_TIMING = fileURLToPath(new URL("./server-timing.ts", import.meta.url));

interface Server {
  url: string;
  pid: number;
  /** The server's own time for each request answered since the last call, in ms (see server-timing.ts). */
  takeServerTimes(): Promise<number[]>;
  stop(): Promise<void>;
}

/** Starts `nodeArgs` (the script last) with only the variables given (no AWS or database settings leak in), and waits for its URL. */
async function startServer(nodeArgs: string[], env: Record<string, string>, urlIn: (line: string) => string | undefined): Promise<Server> {
  const cwd = mkdtempSync(join(tmpdir(), "gantry-bench-intake-"));
  const timingDir = mkdtempSync(join(tmpdir(), "gantry-bench-timing-"));
  const child = spawn(process.execPath, [`--import=${SERVER_TIMING}`, ...nodeArgs], {
    cwd,
    env: { PATH: process.env.PATH ?? "", APP_ID: String(TEST_APP_ID), PRIVATE_KEY: TEST_PRIVATE_KEY, WEBHOOK_SECRET: TEST_WEBHOOK_SECRET, BENCH_SERVER_TIMING_DIR: timingDir, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      const found = urlIn(line);
      if (found) resolve(found);
    });
    child.once("exit", (code) => reject(new Error(`${nodeArgs.at(-1)} exited (${code}) before listening`)));
  });
  let taken = 0;
  const takeServerTimes = async () => {
    taken += 1;
    child.kill("SIGUSR2");
    const file = join(timingDir, `${taken}.json`);
    const deadline = Date.now() + 10_000;
    while (!existsSync(file)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${nodeArgs.at(-1)} wrote no request timings (is ${SERVER_TIMING} preloaded?)`);
      await sleep(20);
    }
    return JSON.parse(readFileSync(file, "utf8")) as number[];
  };
  return { url, pid: child.pid!, takeServerTimes, stop: () => stopChild(child) };
}

/** The paced run, with the server's own p99 for the requests it answered during it. */
async function pacedRun(server: Server): Promise<{ result: Result; serverP99Ms: number }> {
  await server.takeServerTimes();
  const result = await load(server.url, SECONDS, PACED_RATE);
  const times = (await server.takeServerTimes()).sort((a, b) => a - b);
  return { result, serverP99Ms: Math.round(times[Math.floor(times.length * 0.99)]! * 10) / 10 };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(killer);
}

function startGantry(env: Record<string, string>): Promise<Server> {
  return startServer(
    gantryNodeArgs(),
    {
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      GANTRY_DATA_DIR: mkdtempSync(join(tmpdir(), "gantry-bench-data-")),
      // Nothing on this port: a GitHub call would fail at once (non-command comments make none).
      GITHUB_API_URL: "http://127.0.0.1:9",
      ...env,
    },
    (line) => /Gantry listening on (http:\/\/\S+)/.exec(line)?.[1],
  );
}

function startBareProbot(): Promise<Server> {
  return startServer([BARE_PROBOT], {}, (line) => (line.startsWith("{") ? (JSON.parse(line) as { url?: string }).url : undefined));
}

function residentMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // Not Linux: ask ps.
  }
  return Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" }).trim()) / 1024;
}

/** CPU time the process has used, in ms (Linux; undefined elsewhere). */
function cpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    // utime and stime, in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** The full-speed run, and the server's CPU time per acknowledgement during it. */
async function fullSpeed(server: Server): Promise<{ result: Result; cpuMsPerAck?: number }> {
  const before = cpuMs(server.pid);
  const result = await load(server.url, SECONDS);
  const after = cpuMs(server.pid);
  return before === undefined || after === undefined ? { result } : { result, cpuMsPerAck: (after - before) / result["2xx"] };
}

async function idleResidentMb(server: Server): Promise<number> {
  await sleep(IDLE_MS);
  return residentMb(server.pid);
}

const delivery = await signedDelivery(TEST_WEBHOOK_SECRET, "issue_comment", examplePayload("issue_comment", (p) => p.action === "created"), "template");

/** Signed deliveries, each with its own id (the signature covers the body only), over 16 connections. */
async function load(url: string, seconds: number, overallRate?: number): Promise<Result> {
  const result = await autocannon({
    url: `${url}${WEBHOOK_PATH}`,
    connections: CONNECTIONS,
    duration: seconds,
    ...(overallRate ? { overallRate } : {}),
    requests: [
      {
        method: "POST",
        body: delivery.body,
        headers: delivery.headers,
        setupRequest: (request) => ({ ...request, headers: { ...delivery.headers, "x-github-delivery": randomUUID() } }),
      },
    ],
  });
  const failed = result.non2xx + result.errors + result.timeouts;
  if (failed > 0) console.warn(`  ${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts`);
  return result;
}

const acksPerSecond = (result: Result) => result["2xx"] / result.duration;

interface Measured {
  server: string;
  acksPerSecond: number;
  cpuMsPerAck?: number;
  idleRssMb?: number;
  p50MsAt500?: number;
  p99MsAt500?: number;
  /** The p99 of the same paced run timed inside the server, from parsed headers to the answer's end. */
  serverP99MsAt500?: number;
}

async function measureBareProbot(): Promise<Measured> {
  const server = await startBareProbot();
  try {
    const idleRssMb = await idleResidentMb(server);
    await load(server.url, WARMUP_SECONDS);
    const { result, cpuMsPerAck } = await fullSpeed(server);
    // The same paced run as Gantry's: what this machine and this load generator add to any server's latency.
    const paced = await pacedRun(server);
    return {
      server: "bare Probot app",
      idleRssMb,
      acksPerSecond: acksPerSecond(result),
      ...(cpuMsPerAck === undefined ? {} : { cpuMsPerAck }),
      p50MsAt500: paced.result.latency.p50,
      p99MsAt500: paced.result.latency.p99,
      serverP99MsAt500: paced.serverP99Ms,
    };
  } finally {
    await server.stop();
  }
}

/** Every acknowledged delivery must be in the inbox: the bench checks durability as well as speed. */
async function storedDeliveries(url: string): Promise<number> {
  const health = (await (await fetch(`${url}/healthz`)).json()) as { inbox: Record<string, number> };
  return Object.values(health.inbox).reduce((sum, count) => sum + count, 0);
}

async function inboxDrained(url: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const health = (await (await fetch(`${url}/healthz`)).json()) as { inbox: Record<string, number> };
    if ((health.inbox.pending ?? 0) === 0) return;
    if (Date.now() > deadline) throw new Error(`the inbox still holds ${health.inbox.pending} pending deliveries after ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

async function measureGantry(label: string, env: Record<string, string>, paced: boolean): Promise<Measured> {
  const server = await startGantry(env);
  try {
    const idleRssMb = await idleResidentMb(server);
    const warmup = await load(server.url, WARMUP_SECONDS);
    const { result: full, cpuMsPerAck } = await fullSpeed(server);
    const runs = [warmup, full];
    let steady: Awaited<ReturnType<typeof pacedRun>> | undefined;
    if (paced) {
      // Latency at 500/s is a steady load's: the backlog the full-speed runs left is worked off first.
      await inboxDrained(server.url);
      steady = await pacedRun(server);
      runs.push(steady.result);
    }
    const acknowledged = runs.reduce((sum, run) => sum + run["2xx"], 0);
    const stored = await storedDeliveries(server.url);
    // A run ends with requests in flight: those may be stored without their answer being counted.
    if (stored < acknowledged) throw new Error(`${label}: ${acknowledged} deliveries acknowledged but only ${stored} stored`);
    return {
      server: label,
      idleRssMb,
      acksPerSecond: acksPerSecond(full),
      ...(cpuMsPerAck === undefined ? {} : { cpuMsPerAck }),
      ...(steady ? { p50MsAt500: steady.result.latency.p50, p99MsAt500: steady.result.latency.p99, serverP99MsAt500: steady.serverP99Ms } : {}),
    };
  } finally {
    await server.stop();
  }
}

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function benchIntake(): Promise<void> {
  const bare = await measureBareProbot();
  const sqlite = await measureGantry("Gantry on SQLite", {}, true);
  const results = [bare, sqlite];
  if (await postgresReachable()) {
    const postgres = await storeBackends[1]!.location();
    results.push(await measureGantry(`Gantry on PostgreSQL (${new URL(TEST_DATABASE_URL).host})`, { DATABASE_URL: postgres.options.databaseUrl! }, false));
  } else {
    console.log(`(PostgreSQL at ${new URL(TEST_DATABASE_URL).host} not reachable: its row is skipped)`);
  }

  console.log(`\nWebhook intake: signed issue_comment deliveries from autocannon in another process, ${CONNECTIONS} connections, ${SECONDS} s each; every 2xx is a stored delivery`);
  console.table(
    results.map((r) => ({
      server: r.server,
      "acks/s": Math.round(r.acksPerSecond),
      "server CPU ms/ack": r.cpuMsPerAck === undefined ? "" : r.cpuMsPerAck.toFixed(3),
      "p50 / p99 ms at 500/s": r.p99MsAt500 === undefined ? "" : `${r.p50MsAt500} / ${r.p99MsAt500}`,
      "p99 ms inside the server": r.serverP99MsAt500 ?? "",
      "idle RSS MB": r.idleRssMb === undefined ? "" : Math.round(r.idleRssMb),
    })),
  );
  recordBenchResults({
    "intake.acksPerSecond": Math.round(sqlite.acksPerSecond),
    "intake.p99MsAt500": sqlite.p99MsAt500!,
    "intake.bareProbotAcksPerSecond": Math.round(bare.acksPerSecond),
    "intake.bareProbotP99MsAt500": bare.p99MsAt500!,
    "intake.serverP99MsAt500": sqlite.serverP99MsAt500!,
    "intake.bareProbotServerP99MsAt500": bare.serverP99MsAt500!,
    "memory.idleRssMb": Math.round(sqlite.idleRssMb!),
    ...(results[2] ? { "intake.postgresAcksPerSecond": Math.round(results[2].acksPerSecond) } : {}),
  });
}

if (import.meta.main) await benchIntake();
