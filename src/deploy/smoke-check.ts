// One smoke check: a GET to the test listener's own address (read from AWS, never from the
// repository), optionally naming the host the service answers to. A repository can choose the path
// and that name, not where the request goes, so a config cannot point Gantry at another host.
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { EnvironmentConfig } from "../config/repo-config.ts";

export type SmokeCheck = EnvironmentConfig["smoke"][number];

/**
 * `settling`: the answer came from another version than the one deployed (or stated none), as it
 * may while a listener change is still reaching the load balancer's nodes: worth asking again.
 */
export type SmokeResult = { passed: true } | { passed: false; why: string; settling: boolean };

/** Whether the listener answered as expected, from the commit being deployed when the check names a version header. */
export async function runSmokeCheck(baseUrl: string, check: SmokeCheck, commit: string): Promise<SmokeResult> {
  const base = new URL(baseUrl);
  const signal = AbortSignal.timeout(check.timeout);
  const options = {
    host: base.hostname,
    port: base.port,
    // The path is sent as written: "//other.example/x" stays a path on this listener.
    path: check.path,
    method: "GET",
    signal,
    // The name a listener rule routes on and the certificate must cover (TLS SNI and verification).
    ...(check.host ? { headers: { host: check.host }, servername: check.host } : {}),
  };
  let response: IncomingMessage;
  try {
    response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = (base.protocol === "https:" ? httpsRequest : httpRequest)(options, resolve);
      request.once("error", reject);
      request.end();
    });
  } catch (error) {
    return { passed: false, why: `failed: ${signal.aborted ? `no answer within ${check.timeout} ms` : (error as Error).message}`, settling: false };
  }
  response.destroy();
  const status = response.statusCode ?? 0;
  if (check.versionHeader) {
    const stated = response.headers[check.versionHeader];
    const version = (Array.isArray(stated) ? stated[0] : stated)?.trim();
    if (!version || !isCommit(version, commit)) {
      const from = version ? `version ${version.slice(0, 40)}` : `no ${check.versionHeader} header`;
      return { passed: false, why: `answered ${status} with ${from}, not ${commit.slice(0, 12)}`, settling: true };
    }
  }
  return status === check.expectStatus ? { passed: true } : { passed: false, why: `answered ${status}, expected ${check.expectStatus}`, settling: false };
}

/** The full commit SHA, or an abbreviation of at least 7 characters (what `git rev-parse --short` gives). */
function isCommit(version: string, commit: string): boolean {
  const stated = version.toLowerCase();
  return stated === commit.toLowerCase() || (stated.length >= 7 && commit.toLowerCase().startsWith(stated));
}
