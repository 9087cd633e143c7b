// One smoke check: a GET to the test listener's own address (read from AWS, never from the
// repository), optionally naming the host the service answers to. A repository can choose the path
// and that name, not where the request goes, so a config cannot point Gantry at another host.
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { EnvironmentConfig } from "../config/repo-config.ts";

export type SmokeCheck = EnvironmentConfig["smoke"][number];

/** Why the check failed, in words, or undefined when the listener answered as expected. */
export async function runSmokeCheck(baseUrl: string, check: SmokeCheck): Promise<string | undefined> {
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
  try {
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = (base.protocol === "https:" ? httpsRequest : httpRequest)(options, resolve);
      request.once("error", reject);
      request.end();
    });
    response.destroy();
    const status = response.statusCode ?? 0;
    return status === check.expectStatus ? undefined : `answered ${status}, expected ${check.expectStatus}`;
  } catch (error) {
    return `failed: ${signal.aborted ? `no answer within ${check.timeout} ms` : (error as Error).message}`;
  }
}
