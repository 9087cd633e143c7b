// The sample web service that ECS tasks of the emulator run: plain node:http, behaviour from
// SAMPLE_BEHAVIOUR (JSON), port from PORT. Exits when its stdin closes (the emulator went away).
import { createServer } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { SAMPLE_HEALTH_PATH, type SampleBehaviour } from "./behaviour.ts";

const behaviour = JSON.parse(process.env.SAMPLE_BEHAVIOUR ?? '{"version":"unknown"}') as SampleBehaviour;
const port = Number(process.env.PORT ?? 0);
let served = 0;

const server = createServer((req, res) => {
  if (req.url === SAMPLE_HEALTH_PATH) {
    res.writeHead(behaviour.failHealthCheck ? 503 : 200, { "content-type": "text/plain" });
    res.end(behaviour.failHealthCheck ? "unhealthy" : "ok");
    return;
  }
  // Deterministic spread: request n fails when floor(n * rate) steps up, so rate 0.2 fails 1 in 5.
  served++;
  const rate = behaviour.errorRate ?? 0;
  const fail = Math.floor(served * rate) > Math.floor((served - 1) * rate);
  void sleep(behaviour.latencyMs ?? 0).then(() => {
    const body = JSON.stringify({ version: behaviour.version, pid: process.pid, ok: !fail });
    res.writeHead(fail ? 500 : 200, { "content-type": "application/json", "x-sample-version": behaviour.version });
    res.end(body);
  });
});

process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
process.on("SIGTERM", () => server.close(() => process.exit(0)));

await sleep(behaviour.startDelayMs ?? 0);
server.listen(port, "127.0.0.1");
