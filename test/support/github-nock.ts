// nock for api.github.com where every request Gantry sends is held to GitHub's OpenAPI description.
// Violations are collected rather than thrown from the interceptor, because app code may catch a
// failed request; the test fails at its end instead (onTestFinished), whatever the code did.
import nock from "nock";
import { onTestFinished } from "vitest";
import { checkRequest } from "./openapi.ts";

export const GITHUB_API = "https://api.github.com";
const LOOPBACK = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;

export interface RecordedRequest {
  method: string;
  /** Path with query string, e.g. `/repos/o/r/check-runs?x=1`. */
  path: string;
  /** Parsed JSON when the body is JSON, the raw text otherwise, undefined when empty. */
  body: unknown;
  headers: Record<string, string>;
}

export interface GithubNock {
  /** Every request the scope intercepted, in order, matched or not. */
  requests: RecordedRequest[];
  /** Contract violations so far (undocumented operation, body failing its schema, no interceptor). */
  violations: string[];
  assertAllRequestsDocumented(): void;
}

function parseBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * A nock scope for https://api.github.com that records and checks every request. Call it inside a
 * test or a beforeEach: the test fails at its end if any request broke the contract.
 */
export function githubNock(): nock.Scope & GithubNock {
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];
  const record = async (request: Request, bodyText?: string): Promise<void> => {
    const url = new URL(request.url);
    if (url.origin !== GITHUB_API) return;
    const body = parseBody(bodyText ?? (await request.clone().text()));
    const path = url.pathname + url.search;
    requests.push({ method: request.method, path, body, headers: Object.fromEntries(request.headers) });
    violations.push(...checkRequest(request.method, path, body));
  };
  // Once interceptors are used up nock would pass requests through; GitHub must never be reached.
  nock.disableNetConnect();
  nock.enableNetConnect((host: string) => LOOPBACK.test(host));
  const scope = nock(GITHUB_API);
  scope.on("request", (request: Request, _interceptor: unknown, bodyText: string) => void record(request, bodyText));
  // nock answers an unmatched request with a 501 that app code may swallow; count it as a violation.
  const onNoMatch = (request: Request): void => {
    if (new URL(request.url).origin !== GITHUB_API) return;
    violations.push(`${request.method} ${new URL(request.url).pathname}: no nock interceptor matched`);
    void record(request);
  };
  nock.emitter.on("no match", onNoMatch);

  const gh: GithubNock = {
    requests,
    violations,
    assertAllRequestsDocumented() {
      if (violations.length > 0) {
        throw new Error(`GitHub requests that real GitHub would reject:\n  ${violations.join("\n  ")}`);
      }
    },
  };
  onTestFinished(() => {
    nock.emitter.off("no match", onNoMatch);
    gh.assertAllRequestsDocumented();
  });
  return Object.assign(scope, gh);
}
