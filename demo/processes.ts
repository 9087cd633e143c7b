// The demo's processes: the local world, Gantry (`node src/main.ts`, as `npm start` runs it) and the
// load generator, each its own process; every one is stopped and waited for at the end.
import { fork, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { gantryNodeArgs } from "../test/support/gantry-command.ts";
import { gantryEnvFor, worldStateSchema, type WorldState } from "../test/world/world-state.ts";
import type { LoadMessage, LoadReport, PhaseStarted } from "./load.ts";

const ROOT = join(import.meta.dirname, "..");

export interface Stoppable {
  readonly name: string;
  readonly pid: number | undefined;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

function stoppable(name: string, child: ChildProcess): Stoppable & { exited: Promise<number | null> } {
  // A process that could not start is reported through `exited` (127, as a shell would).
  child.once("error", () => child.exitCode ?? child.emit("exit", 127, null));
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
  return {
    name,
    pid: child.pid,
    exited,
    async stop(graceMs = 25_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves with `probe`'s first defined answer; fails as soon as `child` exits. */
async function whileAlive<T>(what: string, child: { exited: Promise<number | null> }, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  let exitCode: number | null | undefined;
  void child.exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = probe();
    if (value !== undefined) return value;
    if (exitCode !== undefined) throw new Error(`${what}: the process exited (${exitCode})`);
    await sleep(100);
  }
  throw new Error(`${what}: timed out`);
}

export async function startWorld(options: { stateFile: string; logFile: string; healthCheckMs: number }): Promise<Stoppable & { state: WorldState }> {
  const child = spawn(process.execPath, [join(ROOT, "test/world/main.ts")], {
    cwd: ROOT,
    env: { ...process.env, WORLD_AWS_PORT: "0", WORLD_HEALTH_CHECK_MS: String(options.healthCheckMs), WORLD_STATE_FILE: options.stateFile, WORLD_EXIT_WITH_STDIN: "1" },
    // Its stdin is a pipe from the demo: if the demo dies, the pipe closes and the world stops.
    stdio: ["pipe", "pipe", "pipe"],
  });
  const log = createWriteStream(options.logFile);
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const world = stoppable("world", child);
  // A state file left by an earlier world is not this one's: wait for one naming this process.
  const state = await whileAlive("the local world", world, () => {
    if (!existsSync(options.stateFile)) return undefined;
    const parsed = worldStateSchema.safeParse(JSON.parse(readFileSync(options.stateFile, "utf8")));
    return parsed.success && parsed.data.pid === child.pid ? parsed.data : undefined;
  }, 60_000);
  return { ...world, state };
}

/** A line of Gantry's log saying a deployment moved from one phase to another. */
export interface DeploymentMoved {
  deployment: string;
  from: string;
  to: string;
}

export async function startGantry(options: { world: WorldState; dataDir: string; logFile: string; onMoved: (moved: DeploymentMoved) => void }): Promise<Stoppable & { url: string }> {
  mkdirSync(options.dataDir, { recursive: true });
  // Run from the data directory, so a `.env` in the repository does not reach the demo's Gantry.
  const child = spawn(process.execPath, gantryNodeArgs(), {
    cwd: options.dataDir,
    env: {
      ...process.env,
      // GitHub, AWS (Gantry's own identity may only assume the world's roles), image builds on the
      // world's CodeBuild, Slack; test shards run as processes of this machine.
      ...gantryEnvFor(options.world),
      GANTRY_CI_EXECUTOR: "local",
      HOST: "127.0.0.1",
      PORT: "0",
      GANTRY_DATA_DIR: options.dataDir,
      DATABASE_URL: "",
      GANTRY_AWS_ACCOUNT_IDS: "",
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = createWriteStream(options.logFile);
  child.stderr!.pipe(log);
  let url: string | undefined;
  createInterface({ input: child.stdout! }).on("line", (line) => {
    log.write(`${line}\n`);
    let entry: { msg?: string; deployment?: string; from?: string; to?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      return;
    }
    url ??= /^Gantry listening on (\S+)/.exec(entry.msg ?? "")?.[1];
    if (entry.msg === "deployment moved" && entry.deployment && entry.from && entry.to) options.onMoved({ deployment: entry.deployment, from: entry.from, to: entry.to });
  });
  const gantry = stoppable("gantry", child);
  return { ...gantry, url: await whileAlive("Gantry", gantry, () => url, 60_000) };
}

export function startLoadGenerator(url: string, perSecond: number): Stoppable & { phase(name: string): Promise<void>; report(): Promise<LoadReport> } {
  const child = fork(join(ROOT, "demo/load.ts"), [url, String(perSecond)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const load = stoppable("load", child);
  const send = (message: LoadMessage) => child.send(message);
  const replies = (accept: (message: unknown) => boolean) =>
    new Promise<unknown>((resolve, reject) => {
      const onMessage = (message: unknown) => {
        if (!accept(message)) return;
        child.off("message", onMessage);
        resolve(message);
      };
      child.on("message", onMessage);
      void load.exited.then((code) => reject(new Error(`the load generator exited (${code})`)));
    });
  return {
    ...load,
    // A busy machine can hold the message up: the phase starts once the generator says it counts there.
    async phase(name) {
      const started = replies((message) => (message as PhaseStarted).started === name);
      send({ phase: name });
      await started;
    },
    async report() {
      const report = replies((message) => "phases" in (message as object));
      send({ stop: true });
      return (await report) as LoadReport;
    },
  };
}
