// Preloaded (`--import`) into each server the intake bench starts. Times every HTTP request inside the
// server, from the moment Node has parsed its headers to the end of its answer, so the bench can tell
// the server's own latency from what the load generator and the machine's scheduling add to it.
// SIGUSR2 writes the times taken since the last signal to `<BENCH_SERVER_TIMING_DIR>/<n>.json`.
import { subscribe } from "node:diagnostics_channel";
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const directory = process.env.BENCH_SERVER_TIMING_DIR;
if (!directory) throw new Error("BENCH_SERVER_TIMING_DIR is not set");

const startedAt = new WeakMap<object, bigint>();
let durationsMs: number[] = [];
let written = 0;

subscribe("http.server.request.start", (message) => {
  startedAt.set((message as { request: object }).request, process.hrtime.bigint());
});
subscribe("http.server.response.finish", (message) => {
  const started = startedAt.get((message as { request: object }).request);
  if (started !== undefined) durationsMs.push(Number(process.hrtime.bigint() - started) / 1e6);
});

process.on("SIGUSR2", () => {
  written += 1;
  const file = join(directory, `${written}.json`);
  // Renamed into place, so the bench never reads half a file.
  writeFileSync(`${file}.tmp`, JSON.stringify(durationsMs));
  renameSync(`${file}.tmp`, file);
  durationsMs = [];
});
