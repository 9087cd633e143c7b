import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, readSync, rmSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { Executor, ShardLaunch, ShardProcessStatus } from "./executor.ts";

export const SHARD_RUNNER = new URL("../runner/shard-runner.ts", import.meta.url).pathname;

interface Running {
  child: ChildProcess;
  exit: Promise<number>;
  exitCode?: number;
}

/**
 * Shards as child processes of this replica, each the shard runner in its own process group (so a
 * cancel stops whatever the tests spawned) and its own working directory, output to a log file kept
 * for the retention period. The working copy is deleted when the shard ends.
 */
export class LocalExecutor implements Executor {
  readonly name = "local";
  readonly perReplica = true;
  readonly slots: number;
  readonly #dir: string;
  readonly #running = new Map<string, Running>();

  constructor(options: { dataDir: string; concurrency: number }) {
    this.slots = options.concurrency;
    this.#dir = join(options.dataDir, "ci");
    mkdirSync(join(this.#dir, "logs"), { recursive: true });
    mkdirSync(join(this.#dir, "work"), { recursive: true });
    mkdirSync(join(this.#dir, "cache"), { recursive: true });
  }

  async start(launch: ShardLaunch): Promise<string> {
    const handle = `${launch.shardId}-${launch.attempt}`;
    const workdir = join(this.#dir, "work", handle);
    mkdirSync(workdir, { recursive: true });
    const log = openSync(this.#logPath(handle), "a");
    const child = spawn(process.execPath, [SHARD_RUNNER], {
      cwd: workdir,
      detached: true,
      stdio: ["ignore", log, log],
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? workdir,
        GANTRY_CI_URL: launch.callbackUrl,
        GANTRY_CI_SHARD: launch.shardId,
        GANTRY_CI_TOKEN: launch.token,
        GANTRY_CI_WORKDIR: join(workdir, "src"),
        GANTRY_CI_CACHE_DIR: join(this.#dir, "cache"),
      },
    });
    closeSync(log);
    const running: Running = {
      child,
      exit: new Promise((resolve) => {
        child.once("error", () => resolve(127));
        child.once("exit", (code, signal) => resolve(code ?? (signal === "SIGKILL" ? 137 : 143)));
      }),
    };
    void running.exit.then((code) => {
      running.exitCode = code;
      rmSync(workdir, { recursive: true, force: true });
    });
    this.#running.set(handle, running);
    return handle;
  }

  async status(handle: string): Promise<ShardProcessStatus> {
    const running = this.#running.get(handle);
    if (!running) return { state: "unknown" };
    return running.exitCode === undefined ? { state: "running" } : { state: "ended", exitCode: running.exitCode };
  }

  async cancel(handle: string): Promise<void> {
    const running = this.#running.get(handle);
    if (!running || running.exitCode !== undefined || running.child.pid === undefined) return;
    const pid = running.child.pid;
    kill(pid, "SIGTERM");
    const hard = setTimeout(() => kill(pid, "SIGKILL"), 3_000);
    await running.exit;
    clearTimeout(hard);
  }

  async logs(handle: string, maxBytes: number): Promise<string> {
    const path = this.#logPath(handle);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return "";
    }
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    const fd = openSync(path, "r");
    try {
      readSync(fd, buffer, 0, length, size - length);
    } finally {
      closeSync(fd);
    }
    return buffer.toString("utf8");
  }

  async pruneLogs(olderThan: number): Promise<number> {
    let removed = 0;
    for (const name of readdirSync(join(this.#dir, "logs"))) {
      const path = join(this.#dir, "logs", name);
      if (statSync(path).mtimeMs < olderThan) {
        unlinkSync(path);
        removed++;
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#running.keys()].map((handle) => this.cancel(handle)));
  }

  #logPath(handle: string): string {
    if (!/^[\w-]+$/.test(handle)) throw new Error("not a shard handle");
    return join(this.#dir, "logs", `${handle}.log`);
  }
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
