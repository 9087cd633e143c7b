// The running world's control API, on loopback: what `npm run world -- comment …` and `npm run demo`
// use to open or push pull requests, comment as a person (a signed webhook to Gantry), click in Slack
// (a signed interactive payload) and read back what Gantry did on GitHub, AWS and Slack. JSON in, JSON out.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import type { Weights } from "../../src/deploy/api.ts";
import type { ImageView, PullView, Sandbox, SlackMessageView } from "./sandbox.ts";

const pullRequestBody = z.object({
  version: z.string().min(1),
  errorRate: z.number().min(0).max(1).optional(),
  latencyMs: z.number().int().min(0).optional(),
  title: z.string().optional(),
});
const clickBody = z.object({ sha: z.string().regex(/^[0-9a-f]{7,40}$/), button: z.string().min(1), as: z.string().min(1).default("writer") });
const commentBody = z.object({ pull: z.number().int().positive(), body: z.string().min(1), as: z.string().min(1).default("octocat") });
const webhookBody = z.object({ url: z.url() });
const configBody = z.object({ environment: z.record(z.string(), z.unknown()) });

export type PullRequestRequest = z.input<typeof pullRequestBody>;

/** Serves the control API for `sandbox`; `changed` is told when the webhook URL moves (the state file records it). */
export async function startControlServer(sandbox: Sandbox, changed: () => void): Promise<{ url: string; close(): Promise<void> }> {
  const routes: Record<string, (body: unknown, path: string) => Promise<unknown> | unknown> = {
    "POST /pulls": async (body) => {
      const { title, ...behaviour } = pullRequestBody.parse(body);
      return sandbox.openPullRequest(behaviour, title === undefined ? {} : { title });
    },
    "POST /pushes": async (body) => {
      const { title, ...behaviour } = pullRequestBody.parse(body);
      return sandbox.pushRelease(behaviour, title === undefined ? {} : { title });
    },
    "POST /comments": async (body) => {
      const { pull, body: text, as } = commentBody.parse(body);
      const { commentId, delivery } = await sandbox.comment(pull, as, text);
      return { commentId, delivered: delivery.status };
    },
    "PUT /webhook": (body) => {
      sandbox.webhookUrl = webhookBody.parse(body).url;
      changed();
      return { url: sandbox.webhookUrl };
    },
    "PUT /config": (body) => {
      sandbox.commitConfig(configBody.parse(body).environment);
      return { committed: true };
    },
    "GET /traffic": () => sandbox.traffic(),
    "GET /slack/messages": () => sandbox.slackMessages(),
    "POST /slack/clicks": (body) => {
      const { sha, button, as } = clickBody.parse(body);
      return sandbox.clickInSlack(sha, button, as);
    },
  };
  const server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? "/").split("?")[0]!;
      const pull = /^\/pulls\/(\d+)$/.exec(path);
      const image = /^\/images\/([0-9a-f]{40})$/.exec(path);
      const route =
        req.method === "GET" && pull ? () => sandbox.pull(Number(pull[1])) ?? null : req.method === "GET" && image ? () => sandbox.image(image[1]!) : routes[`${req.method} ${path}`];
      if (!route) return res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
      try {
        const result = await route(await readJson(req), path);
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(result));
      } catch (error) {
        const message = error instanceof z.ZodError ? z.prettifyError(error) : error instanceof Error ? error.message : String(error);
        res.writeHead(error instanceof z.ZodError ? 400 : 500, { "content-type": "application/json" }).end(JSON.stringify({ error: message }));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text === "" ? undefined : (JSON.parse(text) as unknown);
}

/** A client of a running world's control API. */
export class WorldControl {
  readonly url: string;
  constructor(url: string) {
    this.url = url;
  }

  openPullRequest(request: PullRequestRequest): Promise<{ number: number; sha: string; digest: string }> {
    return this.#call("POST", "/pulls", request);
  }
  /** Pushes a release (tests and a Dockerfile) to the default branch and opens its pull request; see Sandbox.pushRelease. */
  pushRelease(request: PullRequestRequest): Promise<{ number: number; sha: string; delivered: number }> {
    return this.#call("POST", "/pushes", request);
  }
  comment(pull: number, body: string, as?: string): Promise<{ commentId: number; delivered: number }> {
    return this.#call("POST", "/comments", { pull, body, ...(as ? { as } : {}) });
  }
  setWebhookUrl(url: string): Promise<unknown> {
    return this.#call("PUT", "/webhook", { url });
  }
  commitConfig(environment: Record<string, unknown>): Promise<unknown> {
    return this.#call("PUT", "/config", { environment });
  }
  pull(number: number): Promise<PullView | null> {
    return this.#call("GET", `/pulls/${number}`);
  }
  traffic(): Promise<Weights> {
    return this.#call("GET", "/traffic");
  }
  image(sha: string): Promise<ImageView> {
    return this.#call("GET", `/images/${sha}`);
  }
  slackMessages(): Promise<SlackMessageView[]> {
    return this.#call("GET", "/slack/messages");
  }
  /** `as` (default writer) clicks `button` on the Slack message about commit `sha`; resolves with Gantry's answer to them. */
  clickInSlack(sha: string, button: string, as?: string): Promise<{ status: number; answer: string }> {
    return this.#call("POST", "/slack/clicks", { sha, button, ...(as ? { as } : {}) });
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }) });
    const result = (await response.json()) as T & { error?: string };
    if (!response.ok) throw new Error(`world: ${method} ${path}: ${result.error ?? response.status}`);
    return result;
  }
}
