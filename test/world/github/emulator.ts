// A GitHub REST API on loopback for tests that run Gantry as a separate process. Requests are
// routed by GitHub's own operation ids (from the OpenAPI description), request bodies are checked
// against it (422 like GitHub), and every JSON response is shaped from and checked against it.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { checkRequest, checkResponse, findOperation } from "../../support/openapi.ts";
import { accessHandlers } from "./handlers/access.ts";
import { appHandlers } from "./handlers/apps.ts";
import { checkHandlers } from "./handlers/checks.ts";
import { codeloadTarball, contentHandlers } from "./handlers/contents.ts";
import { deploymentHandlers } from "./handlers/deployments.ts";
import { issueHandlers } from "./handlers/issues.ts";
import { pullHandlers } from "./handlers/pulls.ts";
import { type Handler, HttpError, type Reply } from "./http.ts";
import { DEFAULT_OAUTH_CLIENT, oauthFlow, type OAuthClient } from "./oauth.ts";
import { userView } from "./views.ts";
import { shapeResponse } from "./shape.ts";
import * as state from "./state.ts";
import { type WebhookDelivery, sendSignedWebhook } from "./webhook.ts";

export interface GithubEmulatorOptions {
  appId?: number;
  appSlug?: string;
  /** Where sendWebhook posts, e.g. `http://127.0.0.1:3000/api/github/webhooks`. */
  webhookUrl?: string;
  webhookSecret?: string;
  /** Answer 500 (and record it) when a response would not match GitHub's description. Default true. */
  checkResponses?: boolean;
  /** The App's OAuth client, for the user authorisation flow (`/login/oauth/...`). */
  oauthClient?: OAuthClient;
}

/** One API request as the emulator answered it (epoch ms), for tests of how Gantry copes with a slow GitHub. */
export interface AnsweredRequest {
  method: string;
  path: string;
  status: number;
  receivedAt: number;
  answeredAt: number;
}

export interface GithubEmulator {
  url: string;
  /** Every API request answered, in order of answer. */
  answered: AnsweredRequest[];
  /** Holds every API request this long before answering (0: at once), like a GitHub under strain; held ones follow a change. */
  setLatency(ms: number): void;
  /**
   * While set, every write (POST, PATCH, PUT, DELETE; not the app's token requests) is refused with
   * GitHub's secondary rate limit: 403 and `retry-after` (seconds). Null lifts it.
   */
  refuseWrites(limit: { retryAfterSeconds: number } | null): void;
  state: state.GithubState;
  /** The App's OAuth client the web flow accepts. */
  oauthClient: OAuthClient;
  /** Responses that did not match GitHub's description (answered with 500 instead). */
  violations: string[];
  seedRepo(seed: state.SeedRepo): state.Repo;
  seedCommit(fullName: string, seed: state.SeedCommit): string;
  seedUser(login: string, type?: state.User["type"]): state.User;
  seedPermission(fullName: string, login: string, permission: state.Permission): void;
  seedTeam(org: string, slug: string, members: Parameters<typeof state.seedTeam>[3]): state.Team;
  seedPull(fullName: string, seed: state.SeedPull): state.Pull;
  /** A comment by a user (not the app), e.g. a `/deploy` command to send as a webhook. */
  seedComment(fullName: string, issueNumber: number, login: string, body: string): state.Comment;
  sendWebhook(event: string, payload: unknown): Promise<WebhookDelivery>;
  close(): Promise<void>;
}

const HANDLERS: Record<string, Handler> = {
  ...appHandlers,
  ...accessHandlers,
  ...issueHandlers,
  ...pullHandlers,
  ...contentHandlers,
  ...checkHandlers,
  ...deploymentHandlers,
  "users/get-authenticated": (ctx) => {
    const user = ctx.userLogin === undefined ? undefined : ctx.state.users.get(ctx.userLogin.toLowerCase());
    if (!user) throw new HttpError(403, "Resource not accessible by integration");
    return { status: 200, data: userView(ctx.baseUrl, user) };
  },
};

/** Operations a GitHub App calls with its JWT rather than an installation token. */
const JWT_OPERATIONS = new Set(["apps/create-installation-access-token", "apps/get-repo-installation"]);
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Slices `list` by `per_page`/`page` and adds GitHub's Link header, which Octokit's paginate follows. */
function paginate(reply: Reply, url: URL, baseUrl: string): Reply {
  if (!reply.list) return reply;
  const perPage = Math.min(Number(url.searchParams.get("per_page") ?? 30) || 30, 100);
  const page = Math.max(Number(url.searchParams.get("page") ?? 1) || 1, 1);
  const { items, wrap } = reply.list;
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const last = Math.max(Math.ceil(items.length / perPage), 1);
  const link = (p: number, rel: string): string => {
    const next = new URL(url.pathname + url.search, baseUrl);
    next.searchParams.set("page", String(p));
    return `<${next.href}>; rel="${rel}"`;
  };
  const links = page < last ? [link(page + 1, "next"), link(last, "last")] : [];
  const headers = links.length > 0 ? { ...reply.headers, link: links.join(", ") } : reply.headers;
  return { status: reply.status, data: wrap ? wrap(slice, items.length) : slice, ...(headers ? { headers } : {}) };
}

export async function startGithubEmulator(opts: GithubEmulatorOptions = {}): Promise<GithubEmulator> {
  const appSlug = opts.appSlug ?? "gantry";
  const st = state.createState(opts.appId ?? 1, appSlug);
  const oauthClient = opts.oauthClient ?? DEFAULT_OAUTH_CLIENT;
  const oauth = oauthFlow(st, oauthClient);
  const violations: string[] = [];
  const answered: AnsweredRequest[] = [];
  let latencyMs = 0;
  let writeLimit: { retryAfterSeconds: number } | null = null;
  let baseUrl = "";

  function authorise(opId: string, header: string | undefined): { installationId?: number; userLogin?: string } {
    const [, credential = ""] = /^(?:token|bearer)\s+(.+)$/i.exec(header ?? "") ?? [];
    const userLogin = oauth.userTokens.get(credential);
    if (userLogin !== undefined) return { userLogin };
    if (JWT_OPERATIONS.has(opId)) {
      if (!JWT.test(credential)) throw new HttpError(401, "A JSON web token could not be decoded");
      return {};
    }
    const installationId = st.tokens.get(credential);
    if (installationId === undefined) throw new HttpError(401, "Bad credentials");
    return { installationId };
  }

  function route(method: string, url: URL, req: IncomingMessage, text: string): Reply {
    const op = findOperation(method, url.pathname);
    if (!op) throw new HttpError(404, "Not Found");
    const handler = HANDLERS[op.operationId];
    if (!handler) throw new HttpError(501, `The GitHub emulator does not implement ${op.operationId}`);
    const { installationId, userLogin } = authorise(op.operationId, req.headers.authorization);
    if (writeLimit && method !== "GET" && !JWT_OPERATIONS.has(op.operationId)) {
      const error = new HttpError(403, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.");
      return { status: error.status, data: error.data, headers: { "retry-after": String(writeLimit.retryAfterSeconds) } };
    }
    const problems = checkRequest(method, url.pathname, text);
    if (problems.some((p) => p.endsWith("request body is not JSON"))) throw new HttpError(400, "Problems parsing JSON");
    if (problems.length > 0) throw new HttpError(422, `Invalid request.\n\n${problems.join("\n")}`);
    const body = (text === "" ? {} : JSON.parse(text)) as Record<string, unknown>;
    const ctx = { params: op.params, query: url.searchParams, body, headers: req.headers, state: st, baseUrl, installationId, userLogin };
    return paginate(handler(ctx), url, baseUrl);
  }

  function send(res: ServerResponse, method: string, path: string, reply: Reply): void {
    res.once("finish", () => answered.push({ method, path, status: res.statusCode, receivedAt: Number(res.getHeader("x-emulator-received-at")), answeredAt: Date.now() }));
    const headers: Record<string, string> = { "x-github-request-id": `EMU:${st.nextId()}`, ...reply.headers };
    if (reply.raw) {
      res.writeHead(reply.status, { ...headers, "content-type": reply.raw.contentType }).end(reply.raw.body);
      return;
    }
    let status = reply.status;
    let data = reply.data === undefined ? undefined : shapeResponse(method, path, status, reply.data, baseUrl);
    // An undocumented path has no description to check against; it gets GitHub's plain 404.
    const checked = opts.checkResponses !== false && findOperation(method, path) !== undefined;
    const problems = checked ? checkResponse(method, path, status, data) : [];
    if (problems.length > 0) {
      violations.push(...problems);
      status = 500;
      data = { message: `GitHub emulator response violates GitHub's description:\n${problems.join("\n")}` };
    }
    if (data === undefined) {
      res.writeHead(status, headers).end();
      return;
    }
    res.writeHead(status, { ...headers, "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(data));
  }

  const server = createServer((req, res) => {
    void (async () => {
      const method = req.method ?? "GET";
      const url = new URL(req.url ?? "/", baseUrl);
      res.setHeader("x-emulator-received-at", String(Date.now()));
      const text = await readBody(req);
      // Re-read while waiting, so lowering the latency releases requests already held.
      const receivedAt = Date.now();
      while (Date.now() < receivedAt + latencyMs) await new Promise((resolve) => setTimeout(resolve, Math.min(50, receivedAt + latencyMs - Date.now())));
      const codeload = /^\/_codeload\/([^/]+\/[^/]+)\/legacy\.tar\.gz\/([0-9a-f]+)$/.exec(url.pathname);
      if (codeload) {
        const repo = st.repos.get(String(codeload[1]).toLowerCase());
        const tarball = repo && codeloadTarball(repo, String(codeload[2]));
        if (tarball) res.writeHead(200, { "content-type": "application/x-gzip" }).end(tarball);
        else res.writeHead(404).end();
        return;
      }
      const web = oauth.handle(method, url, req, text);
      if (web) {
        res.writeHead(web.status, web.headers).end(web.body);
        return;
      }
      let reply: Reply;
      try {
        reply = route(method, url, req, text);
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        reply = { status: error.status, data: error.data };
      }
      send(res, method, url.pathname, reply);
    })().catch((error: unknown) => {
      res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ message: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const repoNamed = (fullName: string): state.Repo => {
    const repo = st.repos.get(fullName.toLowerCase());
    if (!repo) throw new Error(`GitHub emulator: seed the repo ${fullName} first`);
    return repo;
  };

  return {
    url: baseUrl,
    state: st,
    oauthClient,
    violations,
    answered,
    setLatency: (ms) => {
      latencyMs = ms;
    },
    refuseWrites: (limit) => {
      writeLimit = limit;
    },
    seedRepo: (seed) => state.seedRepo(st, seed),
    seedCommit: (fullName, seed) => state.seedCommit(repoNamed(fullName), seed),
    seedUser: (login, type) => state.seedUser(st, login, type),
    seedPermission: (fullName, login, permission) => {
      state.seedUser(st, login);
      repoNamed(fullName).permissions.set(login.toLowerCase(), permission);
    },
    seedTeam: (org, slug, members) => state.seedTeam(st, org, slug, members),
    seedPull: (fullName, seed) => state.seedPull(st, repoNamed(fullName), seed),
    seedComment: (fullName, issueNumber, login, body) => state.seedComment(st, repoNamed(fullName), issueNumber, login, body),
    sendWebhook: (event, payload) => {
      if (!opts.webhookUrl || opts.webhookSecret === undefined) {
        throw new Error("GitHub emulator: sendWebhook needs webhookUrl and webhookSecret");
      }
      return sendSignedWebhook({ url: opts.webhookUrl, secret: opts.webhookSecret, event, payload });
    },
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    }),
  };
}
