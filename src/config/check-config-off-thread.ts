import { Worker } from "node:worker_threads";
import { checkConfigFiles, type ConfigFiles, type ConfigFilesCheck } from "./check-config-files.ts";

/**
 * Checks configuration files without blocking the event loop: the `yaml` parser and zod take hundreds
 * of milliseconds for a file near the size limit, so anything but small files is checked in one shared
 * worker thread, one check at a time. A check that takes too long ends the worker (a fresh one serves
 * the next) and is reported as a problem. A worker is a second JavaScript heap in the process: it is
 * ended once idle, so its memory goes back instead of staying at the size of the largest file checked.
 */

/** Files this small check in a millisecond or two: no thread hop. */
const INLINE_CHARS = 16 * 1024;
const CHECK_TIMEOUT_MS = 10_000;
/** A worker with nothing to check for this long is ended; the next check starts a fresh one (tens of ms). */
const IDLE_MS = 2_000;
/**
 * The worker's heap. A file at the 256 KB limit, with the checker's bounds on nesting and aliases,
 * takes a few tens of MB to check; a file that needs more ends the worker and is reported as too big.
 */
const WORKER_HEAP_MB = 64;

interface Pending {
  resolve: (check: ConfigFilesCheck) => void;
  reject: (error: Error) => void;
}

let worker: Worker | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let nextId = 0;
const pending = new Map<number, Pending>();

function startWorker(): Worker {
  // Bounded memory: whatever a file does, it can end the worker, never the server.
  const started = new Worker(new URL("./check-config-worker.ts", import.meta.url), {
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, maxYoungGenerationSizeMb: 16 },
  });
  started.on("message", ({ id, check }: { id: number; check: ConfigFilesCheck }) => {
    pending.get(id)?.resolve(check);
    pending.delete(id);
  });
  started.on("error", (error) => failAll(started, error));
  started.on("exit", (code) => failAll(started, new Error(`the configuration checker stopped (exit code ${code})`)));
  // Never what keeps the process alive (after the listeners: adding one refs the port again).
  started.unref();
  return started;
}

function failAll(stopped: Worker, error: Error): void {
  if (worker !== stopped) return;
  worker = undefined;
  for (const { reject } of pending.values()) reject(error);
  pending.clear();
}

export async function checkConfigOffThread(input: ConfigFiles): Promise<ConfigFilesCheck> {
  const size = input.files.reduce((sum, { text }) => sum + (text?.length ?? 0), 0);
  if (size <= INLINE_CHARS) return checkConfigFiles(input);
  clearTimeout(idleTimer);
  worker ??= startWorker();
  const current = worker;
  const id = nextId++;
  const result = new Promise<ConfigFilesCheck>((resolve, reject) => pending.set(id, { resolve, reject }));
  const timer = setTimeout(() => void current.terminate(), CHECK_TIMEOUT_MS);
  current.postMessage({ id, input });
  try {
    return await result;
  } catch (error) {
    const outOfMemory = (error as { code?: unknown }).code === "ERR_WORKER_OUT_OF_MEMORY";
    const message = outOfMemory
      ? `Gantry could not check the file within ${WORKER_HEAP_MB} MB of memory; make it smaller and simpler.`
      : `Gantry could not check the file within ${CHECK_TIMEOUT_MS / 1000} s; make it smaller and simpler.`;
    const problem = { line: 1, setting: "(file)", message };
    return { kind: "checked", result: { status: "invalid", problems: [problem], total: 1 } };
  } finally {
    clearTimeout(timer);
    if (pending.size === 0 && worker === current) idleTimer = setTimeout(() => endIdle(current), IDLE_MS).unref();
  }
}

function endIdle(idle: Worker): void {
  if (worker !== idle || pending.size > 0) return;
  worker = undefined;
  void idle.terminate();
}
