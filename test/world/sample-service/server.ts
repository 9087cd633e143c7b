// The sample web service that ECS tasks of the emulator run: plain node:http, behaviour from
// SAMPLE_BEHAVIOUR (JSON), port from PORT, task id from SAMPLE_TASK_ID. Exits when its stdin
// closes (the emulator went away).
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { mulberry32 } from "../../support/simulate-traffic.ts";
import { SAMPLE_HEALTH_PATH, type SampleBehaviour } from "./behaviour.ts";

const behaviour = JSON.parse(process.env.SAMPLE_BEHAVIOUR ?? '{"version":"unknown"}') as SampleBehaviour;
const port = Number(process.env.PORT ?? 0);
// Longer than any load balancer idle timeout, as AWS advises: the balancer closes an idle
// connection first, so it never sends a request on one the task has just closed.
const KEEP_ALIVE_MS = 3_600_000;

if (behaviour.exitAtStart) process.exit(1);

const seed = createHash("sha256").update(`${behaviour.seed ?? 1}/${process.env.SAMPLE_TASK_ID ?? ""}`).digest().readUInt32BE(0);
const draw = mulberry32(seed);

const server = createServer((req, res) => {
  if (req.url === SAMPLE_HEALTH_PATH) {
    res.writeHead(behaviour.failHealthCheck ? 503 : 200, { "content-type": "text/plain" });
    res.end(behaviour.failHealthCheck ? "unhealthy" : "ok");
    return;
  }
  if (behaviour.onFirstRequest === "exit") process.exit(1);
  if (behaviour.onFirstRequest === "refuse") {
    server.close();
    server.closeAllConnections();
    return;
  }
  if (behaviour.hang) return;
  const fail = draw() < (behaviour.errorRate ?? 0);
  void sleep(behaviour.latencyMs ?? 0).then(() => {
    const body = JSON.stringify({ version: behaviour.version, pid: process.pid, ok: !fail });
    res.writeHead(fail ? 500 : 200, { "content-type": "application/json", "x-sample-version": behaviour.version });
    res.end(body);
  });
});
server.keepAliveTimeout = KEEP_ALIVE_MS;

process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
process.on("SIGTERM", () => server.close(() => process.exit(0)));

await sleep(behaviour.startDelayMs ?? 0);
if (!behaviour.refuseConnections) server.listen(port, "127.0.0.1");
