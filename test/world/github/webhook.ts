// Webhook deliveries as GitHub sends them: the signature covers the exact bytes posted.
import { createHmac, randomUUID } from "node:crypto";

export interface WebhookDelivery {
  deliveryId: string;
  status: number;
  body: string;
}

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export async function sendSignedWebhook(opts: {
  url: string;
  secret: string;
  event: string;
  payload: unknown;
  deliveryId?: string;
}): Promise<WebhookDelivery> {
  const body = JSON.stringify(opts.payload);
  const deliveryId = opts.deliveryId ?? randomUUID();
  const response = await fetch(opts.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/emulator",
      "x-github-event": opts.event,
      "x-github-delivery": deliveryId,
      "x-hub-signature-256": signBody(opts.secret, body),
    },
    body,
  });
  return { deliveryId, status: response.status, body: await response.text() };
}
