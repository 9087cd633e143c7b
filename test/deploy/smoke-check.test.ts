// Smoke checks against an HTTPS listener whose certificate covers the service's name, not the load
// balancer's: the check names the host, and the request still goes only to the listener.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getCACertificates, setDefaultCACertificates, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSmokeCheck as check3, type SmokeCheck } from "../../src/deploy/smoke-check.ts";

const SHA = "0123456789abcdef0123456789abcdef01234567";
/** Why the check failed, or undefined when it passed. */
async function runSmokeCheck(url: string, smoke: SmokeCheck): Promise<string | undefined> {
  const result = await check3(url, smoke, SHA);
  return result.passed ? undefined : result.why;
}

const HOST = "app.example.test";

interface Seen {
  path: string;
  host: string | undefined;
  servername: string | false | null;
}

let server: Server;
let baseUrl: string;
const seen: Seen[] = [];

beforeAll(async () => {
  // A certificate for the service's name only, trusted as a public one would be.
  const dir = mkdtempSync(join(tmpdir(), "gantry-smoke-"));
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", `/CN=${HOST}`, "-addext", `subjectAltName=DNS:${HOST}`,
    "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
  ], { stdio: "ignore" });
  const cert = readFileSync(join(dir, "cert.pem"), "utf8");
  setDefaultCACertificates([...getCACertificates("default"), cert]);
  server = createServer({ key: readFileSync(join(dir, "key.pem")), cert }, (request, response) => {
    seen.push({ path: request.url ?? "", host: request.headers.host, servername: (request.socket as TLSSocket).servername });
    // /v/<status>/<version>: an answer stating the version it came from in x-version.
    const versioned = /^\/v\/(\d+)\/(.*)$/.exec(request.url ?? "");
    if (versioned) return void response.writeHead(Number(versioned[1]), versioned[2] ? { "x-version": versioned[2] } : {}).end();
    if (request.url === "/moved") return void response.writeHead(302, { location: "https://elsewhere.example/" }).end();
    response.writeHead(request.url === "/health" ? 200 : 404).end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  // What the load balancer's DNS name is to a real listener: an address the certificate does not cover.
  baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const check = (path: string, host?: string): SmokeCheck => ({ path, expectStatus: 200, timeout: 5_000, versionWait: 60_000, ...(host ? { host } : {}) });

describe("runSmokeCheck", () => {
  it("fails on an HTTPS listener when it names no host: the certificate does not cover the load balancer's name", async () => {
    expect(await runSmokeCheck(baseUrl, check("/health"))).toMatch(/^failed: .*(altnames|certificate)/i);
  });

  it("passes when it names the host the certificate covers, sent as TLS server name and Host header", async () => {
    seen.length = 0;
    expect(await runSmokeCheck(baseUrl, check("/health", HOST))).toBeUndefined();
    expect(seen).toEqual([{ path: "/health", host: HOST, servername: HOST }]);
  });

  it("reports an unexpected status, and does not follow a redirect elsewhere", async () => {
    seen.length = 0;
    expect(await runSmokeCheck(baseUrl, check("/moved", HOST))).toBe("answered 302, expected 200");
    expect(seen.map((request) => request.path)).toEqual(["/moved"]);
  });

  it("sends a path that looks like another host to the listener itself", async () => {
    seen.length = 0;
    expect(await runSmokeCheck(baseUrl, check("//elsewhere.example/health", HOST))).toBe("answered 404, expected 200");
    expect(seen).toEqual([{ path: "//elsewhere.example/health", host: HOST, servername: HOST }]);
  });

  it("gives up on a listener that never answers, saying how long it waited", async () => {
    // Accepts the connection and never speaks, not even TLS.
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const url = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      expect(await runSmokeCheck(url, { ...check("/health", HOST), timeout: 200 })).toBe("failed: no answer within 200 ms");
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  describe("with a version header", () => {
    const versionCheck = (path: string) => ({ ...check(path, HOST), versionHeader: "x-version" });
    it("passes only on an answer from the commit being deployed, in full or abbreviated to 7 or more characters", async () => {
      expect(await check3(baseUrl, versionCheck(`/v/200/${SHA}`), SHA)).toEqual({ passed: true });
      expect(await check3(baseUrl, versionCheck(`/v/200/${SHA.slice(0, 7).toUpperCase()}`), SHA)).toEqual({ passed: true });
      expect(await check3(baseUrl, versionCheck(`/v/200/${SHA.slice(0, 6)}`), SHA)).toMatchObject({ passed: false, settling: true });
    });
    it("asks again on an answer from another version or none stated, even a healthy one: the listener may still route by its previous configuration", async () => {
      expect(await check3(baseUrl, versionCheck("/v/200/ffffffffffffffffffffffffffffffffffffffff"), SHA)).toEqual({
        passed: false,
        why: `answered 200 with version ffffffffffffffffffffffffffffffffffffffff, not ${SHA.slice(0, 12)}`,
        settling: true,
      });
      expect(await check3(baseUrl, versionCheck("/v/503/"), SHA)).toEqual({ passed: false, why: `answered 503 with no x-version header, not ${SHA.slice(0, 12)}`, settling: true });
    });
    it("fails at once when the new version itself answers wrongly", async () => {
      expect(await check3(baseUrl, versionCheck(`/v/500/${SHA}`), SHA)).toEqual({ passed: false, why: "answered 500, expected 200", settling: false });
    });
  });
});
