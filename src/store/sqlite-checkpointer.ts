import { statSync } from "node:fs";
import type { DatabaseSync } from "node:sqlite";
import { Worker } from "node:worker_threads";

/** How often the checkpointer copies committed pages from the WAL into the database file. */
const CHECKPOINT_INTERVAL_MS = 200;
/**
 * WAL pages (4 KB each) past which a checkpoint also restarts the WAL. A PASSIVE checkpoint leaves
 * the WAL to be reused from its start only if no commit came in while it ran, which under steady
 * load never happens: a RESTART checkpoint waits for the commit in progress and holds the next one
 * back while it copies the few pages the passive ones left.
 */
const RESTART_AFTER_PAGES = 16_384;
/** SQLite's own checkpoint threshold, in pages. The thread starts once the WAL first grows this large. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1_000;
const PAGE_BYTES = 4_096;
/** How often the WAL's size is looked at until the thread has started. */
const WATCH_INTERVAL_MS = 1_000;

// Plain JavaScript, evaluated: the thread needs no TypeScript stripping and stays a few megabytes.
const CHECKPOINTER = `
const { DatabaseSync } = require("node:sqlite");
const { parentPort, workerData } = require("node:worker_threads");
const database = new DatabaseSync(workerData.filename);
database.exec("PRAGMA busy_timeout = 5000");
const passive = database.prepare("PRAGMA wal_checkpoint(PASSIVE)");
const timer = setInterval(() => {
  const [{ log }] = passive.all();
  if (log > workerData.restartAfterPages) database.exec("PRAGMA wal_checkpoint(RESTART)");
}, workerData.intervalMs);
parentPort.once("message", () => {
  clearInterval(timer);
  database.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): void;
}

/**
 * Checkpoints a WAL-mode SQLite database from a thread of its own. A checkpoint writes the pages
 * committed since the last one into the database file and syncs both files to disk: tens of
 * milliseconds on an ordinary disk, which SQLite's automatic checkpoint would spend on the event
 * loop, in the middle of a commit, every thousand pages. A PASSIVE checkpoint never holds up the
 * writer, so commits go on while it runs.
 *
 * The thread (about 10 MB) starts when the WAL first reaches SQLite's own checkpoint size, so a
 * server that has written little does without it. If it stops, the connection checkpoints on its
 * own again, as SQLite does by default.
 */
export function checkpointOffThread(filename: string, database: DatabaseSync): Checkpointer {
  let closed = false;
  let worker: Worker | undefined;
  const checkpointOnOwnConnection = () => {
    if (!closed) database.exec(`PRAGMA wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
  };
  database.exec("PRAGMA wal_autocheckpoint = 0");
  const watch = setInterval(() => {
    if (walBytes(filename) < SQLITE_AUTOCHECKPOINT_PAGES * PAGE_BYTES) return;
    clearInterval(watch);
    worker = startWorker(filename, checkpointOnOwnConnection);
  }, WATCH_INTERVAL_MS);
  watch.unref();
  return {
    stop() {
      closed = true;
      clearInterval(watch);
      worker?.postMessage("stop");
    },
  };
}

function walBytes(filename: string): number {
  return statSync(`${filename}-wal`, { throwIfNoEntry: false })?.size ?? 0;
}

function startWorker(filename: string, onStopped: () => void): Worker {
  const worker = new Worker(CHECKPOINTER, {
    eval: true,
    workerData: { filename, intervalMs: CHECKPOINT_INTERVAL_MS, restartAfterPages: RESTART_AFTER_PAGES },
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
  });
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    onStopped();
  };
  worker.once("error", stop);
  worker.once("exit", stop);
  // The server's lifetime is not the checkpointer's business.
  worker.unref();
  return worker;
}
