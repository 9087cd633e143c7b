import { createHmac, timingSafeEqual, type Hmac } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "probot";
import { refuseRequest } from "../web/refuse-request.ts";
import type { BodyBudget, BodySlot } from "./body-budget.ts";
import type { DeliveryStore, RecordOutcome } from "./delivery-store.ts";

/** GitHub caps webhook payloads at 25 MB. */
export const MAX_BODY_BYTES = 25 * 1024 * 1024;
/** What a refused sender is told to wait when the bodies in flight fill the budget. */
const RETRY_AFTER_SECONDS = 2;

export interface IntakeOptions {
  secret: string;
  deliveries: DeliveryStore;
  /** Bounds the bodies received at once, in count and bytes. */
  budget: BodyBudget;
  log: Logger;
  /** Whether a handler takes the event: any other is acknowledged (`ignored`) and neither stored nor parsed. */
  handles: (event: string) => boolean;
  /** The delivery's inbox priority (0 unless urgent). */
  priorityOf: (event: string, payload: string) => Promise<number>;
  /** Called after a new delivery is stored, to start processing without waiting for the next poll. */
  onQueued: () => void;
}

/** A body read whole: its bytes and their HMAC-SHA256 under the webhook secret, computed while it arrived. */
interface ReadBody {
  bytes: Buffer;
  signature: string;
}

type BodyOutcome = ReadBody | "too large" | "over budget" | "aborted";

/**
 * Accepts a GitHub webhook: checks its headers before reading a byte of the body, reads the body
 * within the budget, verifies its signature over the exact bytes, stores it in the inbox and answers
 * at once. Handlers never run inside the request.
 *
 * A body is held once: its chunks are signed as they arrive, joined once and decoded once to the text
 * stored. It is not parsed here (the inbox worker parses it, once, and marks a body that does not
 * parse dead at its first attempt): parsing megabyte payloads twice was most of what a flood of them
 * allocated.
 */
export function webhookIntake(options: IntakeOptions) {
  const { log } = options;
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const signature = header(request, "x-hub-signature-256");
    const event = header(request, "x-github-event");
    const id = header(request, "x-github-delivery");
    const declared = declaredLength(request);
    const context = { delivery: id, event, size: declared };
    const refuse = (status: number, message: string, headers?: Record<string, string>) => {
      log.debug({ ...context, status }, `webhook refused: ${message}`);
      refuseRequest(request, response, status, message, headers);
    };
    const tooLarge = () => refuse(413, "payload larger than 25 MB");
    const busy = () => refuse(503, "too many webhook bodies in flight; retry shortly", { "retry-after": String(RETRY_AFTER_SECONDS) });

    if (!signature) return refuse(401, "X-Hub-Signature-256 header is missing; set a webhook secret in the GitHub App settings");
    if (!event || !id) return refuse(400, "X-GitHub-Event and X-GitHub-Delivery headers are required");
    if (declared === "invalid") return refuse(400, "Content-Length is not a number");
    if (declared !== undefined && declared > MAX_BODY_BYTES) return tooLarge();
    const slot = options.budget.open(declared ?? 0);
    if (!slot) return busy();

    try {
      const body = await readBody(request, slot, createHmac("sha256", options.secret));
      if (body === "aborted") return;
      if (body === "too large") return tooLarge();
      if (body === "over budget") return busy();
      if (!sameSignature(signature, body.signature)) {
        log.debug({ ...context, size: body.bytes.length, status: 401 }, "webhook refused: signature does not match");
        return reply(response, 401, "signature does not match; check WEBHOOK_SECRET against the GitHub App settings");
      }
      if (!options.handles(event)) return reply(response, 202, "ignored");
      if (!looksLikeJsonObject(body.bytes)) return reply(response, 400, "payload is not a JSON object; set the webhook content type to application/json");
      const payload = body.bytes.toString("utf8");
      let outcome: RecordOutcome;
      try {
        outcome = await options.deliveries.record({ id, event, payload }, await options.priorityOf(event, payload));
      } catch (error) {
        // The commit holding this delivery failed, so none of its batch is stored: say so, and GitHub
        // (or whoever redelivers) sends it again.
        log.error({ ...context, err: error }, "webhook not stored: the inbox commit failed");
        return reply(response, 503, "the delivery could not be stored; nothing was kept, send it again", { "retry-after": String(RETRY_AFTER_SECONDS) });
      }
      if (outcome === "queued") options.onQueued();
      reply(response, 202, outcome);
    } finally {
      slot.release();
    }
  };
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function declaredLength(request: IncomingMessage): number | "invalid" | undefined {
  const value = request.headers["content-length"];
  if (value === undefined) return undefined;
  return /^\d+$/.test(value) ? Number(value) : "invalid";
}

/** Constant-time comparison of `X-Hub-Signature-256` with the one computed. */
function sameSignature(received: string, computed: string): boolean {
  const expected = Buffer.from(`sha256=${computed}`);
  const given = Buffer.from(received);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * Whether the body starts as a JSON object does: what tells GitHub's form-encoded content type
 * (`payload=…`) from JSON, without parsing the whole body.
 */
function looksLikeJsonObject(bytes: Buffer): boolean {
  for (const byte of bytes) if (!WHITESPACE.has(byte)) return byte === 0x7b;
  return false;
}

/**
 * Reads the body while it fits both GitHub's size cap and the budget. Stops listening (without
 * destroying the request) when it does not, so the refusal can still be read by the client.
 */
function readBody(request: IncomingMessage, slot: BodySlot, hmac: Hmac): Promise<BodyOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (outcome: BodyOutcome) => {
      request.off("data", onData).off("end", onEnd).off("close", onClose);
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return finish("too large");
      if (!slot.grow(size)) return finish("over budget");
      hmac.update(chunk);
      chunks.push(chunk);
    };
    const onEnd = () => finish({ bytes: Buffer.concat(chunks, size), signature: hmac.digest("hex") });
    const onClose = () => finish("aborted");
    request.on("data", onData).on("end", onEnd).on("close", onClose);
  });
}

function reply(response: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify({ status, message }));
}
