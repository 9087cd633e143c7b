import type { IncomingMessage, ServerResponse } from "node:http";
import { verify } from "@octokit/webhooks-methods";
import type { DeliveryStore } from "./delivery-store.ts";

/** GitHub caps webhook payloads at 25 MB. */
const MAX_BODY_BYTES = 25 * 1024 * 1024;

export interface IntakeOptions {
  secret: string;
  deliveries: DeliveryStore;
  /** Called after a new delivery is stored, to start processing without waiting for the next poll. */
  onQueued: () => void;
}

/**
 * Accepts a GitHub webhook: verifies its signature over the exact bytes, stores it in the inbox and
 * answers at once. Handlers never run inside the request.
 */
export function webhookIntake(options: IntakeOptions) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const signature = header(request, "x-hub-signature-256");
    const event = header(request, "x-github-event");
    const id = header(request, "x-github-delivery");
    const body = await readBody(request);
    if (body === undefined) return reply(response, 413, "payload larger than 25 MB");
    if (!signature || !(await verify(options.secret, body, signature).catch(() => false))) {
      return reply(response, 401, "signature does not match; check WEBHOOK_SECRET against the GitHub App settings");
    }
    if (!event || !id) return reply(response, 400, "X-GitHub-Event and X-GitHub-Delivery headers are required");
    try {
      JSON.parse(body);
    } catch {
      return reply(response, 400, "payload is not JSON; set the webhook content type to application/json");
    }
    const outcome = await options.deliveries.record({ id, event, payload: body });
    if (outcome === "queued") options.onQueued();
    reply(response, 202, outcome);
  };
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function reply(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ status, message }));
}
