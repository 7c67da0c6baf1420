import type { EventPriority, HubEvent } from "../events/hub-event.ts";

/** What a BullMQ delivery job carries: the event as enriched at fan-out, so that no lookup is needed. */
export interface DeliveryJobData {
  deliveryId: string;
  subscriptionId: string;
  /** ms since epoch of the 202, for the accept → delivery latency. */
  acceptedAt: number;
  event: HubEvent;
  /** The conversation queue it belongs to, for a subscription with `ordering: "conversation"`. */
  conversationQueue?: string;
}

/** BullMQ priority: lower runs first; FIFO among equal ones. */
export const JOB_PRIORITY: Record<EventPriority, number> = { urgent: 1, high: 2, normal: 3, low: 4 };

export const BACKOFF_TYPE = "webhook";

/** The webhook payload: `{type, timestamp, data}`, with the routing decision as `data.routing` when there is one. */
export function webhookPayload(event: HubEvent): Record<string, unknown> {
  const data = event.routing ? { ...event.data, routing: event.routing } : event.data;
  return { type: event.type, timestamp: event.occurredAt, data };
}

export function webhookBody(event: HubEvent): string {
  return JSON.stringify(webhookPayload(event));
}
