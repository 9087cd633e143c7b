import type { Generated } from "kysely";

/** Table shapes as both backends store them. Times are epoch milliseconds. */
export interface Database {
  webhook_deliveries: WebhookDeliveryTable;
}

export type DeliveryStatus = "pending" | "done" | "dead";

export interface WebhookDeliveryTable {
  /** `X-GitHub-Delivery`: a redelivery carries the same id. */
  id: string;
  event: string;
  payload: string;
  received_at: number;
  status: DeliveryStatus;
  attempts: Generated<number>;
  /** When the delivery may next be claimed; while claimed it is the lease expiry. */
  next_attempt_at: number;
  claim_token: string | null;
  last_error: string | null;
  processed_at: number | null;
}
