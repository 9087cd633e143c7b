// The Slack Web API on loopback (use `${url}/api/` as slackApiUrl), recording every call, plus a
// poster of signed interactive payloads to a Slack receiver.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { type BlockAction, blockActionsPayload, postSigned, postSignedForm, type SlashCommand, slashCommandForm } from "./interactive.ts";
import { METHODS, type SlackResult } from "./methods.ts";
import { type SlackUser, type SlackWorkspace, createWorkspace } from "./state.ts";

export interface SlackEmulatorOptions {
  /** The bot token the emulator accepts. Default `xoxb-gantry-test`. */
  token?: string;
}

export interface SlackCall {
  /** A Web API method (`chat.postMessage`), or `response_url` for posts to an action's response URL. */
  method: string;
  args: Record<string, unknown>;
  result: SlackResult;
}

/** A Slack in trouble: every Web API call is refused this way until lifted. */
export type SlackFault = { rateLimitedSeconds: number } | { status: number };

export interface SlackEmulator {
  url: string;
  /** Refuses every Web API call (429 with Retry-After, or an HTTP error) until called with null; refused calls are recorded too. */
  refuse(fault: SlackFault | null): void;
  token: string;
  workspace: SlackWorkspace;
  calls: SlackCall[];
  seedUser(user: { name: string; email: string; realName?: string; id?: string }): SlackUser;
  seedChannel(name: string): string;
  postBlockAction(receiverUrl: string, signingSecret: string, action: BlockAction): Promise<{ status: number; body: string }>;
  /** A signed slash command, as Slack posts it when a user types it; answers to its response URL are recorded as `response_url` calls. */
  postSlashCommand(receiverUrl: string, signingSecret: string, command: SlashCommand): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

// Slack clients send form-encoded arguments with structured ones (blocks, ...) as JSON text.
function parseArgs(contentType: string, text: string): Record<string, unknown> {
  if (contentType.includes("application/json")) return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    args[key] = /^[[{]/.test(value) ? JSON.parse(value) : value;
  }
  return args;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startSlackEmulator(opts: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  const ws = createWorkspace(opts.token ?? "xoxb-gantry-test");
  const calls: SlackCall[] = [];
  let fault: SlackFault | null = null;

  function call(method: string, authorization: string | undefined, args: Record<string, unknown>): SlackResult {
    const impl = METHODS[method];
    if (!impl) return { ok: false, error: "unknown_method" };
    // Slack takes the token from the Authorization header or, for form posts, a `token` argument.
    const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1] ?? (typeof args.token === "string" ? args.token : undefined);
    if (!token) return { ok: false, error: "not_authed" };
    if (token !== ws.token) return { ok: false, error: "invalid_auth" };
    return impl(ws, args);
  }

  const server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      const args = parseArgs(req.headers["content-type"] ?? "", await readBody(req));
      if (path.startsWith("/response/")) {
        const result = { ok: true };
        calls.push({ method: "response_url", args, result });
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(result));
        return;
      }
      const method = /^\/api\/([\w.]+)$/.exec(path)?.[1];
      if (method && fault) {
        const limited = "rateLimitedSeconds" in fault ? fault.rateLimitedSeconds : undefined;
        const result = { ok: false, error: limited === undefined ? "service_unavailable" : "ratelimited" };
        calls.push({ method, args, result });
        const headers = { "content-type": "application/json; charset=utf-8", ...(limited === undefined ? {} : { "retry-after": String(limited) }) };
        res.writeHead("status" in fault ? fault.status : 429, headers).end(JSON.stringify(result));
        return;
      }
      const result = method ? call(method, req.headers.authorization, args) : { ok: false, error: "unknown_method" };
      calls.push({ method: method ?? path, args, result });
      // Slack reports method errors in the body with HTTP 200.
      res.writeHead(method ? 200 : 404, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(result));
    })().catch((error: unknown) => {
      res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ ok: false, error: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    token: ws.token,
    refuse: (next) => {
      fault = next;
    },
    workspace: ws,
    calls,
    seedUser: (u) => {
      const user = { id: u.id ?? ws.nextId("U"), name: u.name, realName: u.realName ?? u.name, email: u.email, isBot: false };
      ws.users.set(user.id, user);
      return user;
    },
    seedChannel: (name) => {
      const id = ws.nextId("C");
      ws.channels.set(id, name.replace(/^#/, ""));
      return id;
    },
    postBlockAction: (receiverUrl, signingSecret, action) => {
      const payload = blockActionsPayload(action, ws, `${url}/response/${ws.nextId("R")}`);
      return postSigned(receiverUrl, signingSecret, payload, action.timestamp ?? Math.floor(Date.now() / 1000));
    },
    postSlashCommand: (receiverUrl, signingSecret, command) => {
      const form = slashCommandForm(command, ws, `${url}/response/${ws.nextId("R")}`);
      return postSignedForm(receiverUrl, signingSecret, form, command.timestamp ?? Math.floor(Date.now() / 1000));
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
