import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { HubConfig } from "../../src/config/config.ts";
import { eventually, startTestHub, type TestHub } from "../helpers/test-hub.ts";

/** Fast schedules and loopback allowed: what every delivery test starts from. */
export const FAST: Partial<HubConfig> = {
  deliveryAllowCidrs: ["127.0.0.0/8"],
  deliveryRetrySchedule: "50ms,50ms,50ms",
  deliveryTimeoutMs: 2000,
  eventsHandoffGraceMs: 300,
  shutdownGraceMs: 1000,
};

export function startDeliveryHub(overrides: Partial<HubConfig> = {}): Promise<TestHub> {
  return startTestHub({ ...FAST, ...overrides });
}

export function ticketCreated(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `evt_${randomUUID()}`,
    type: "ticket.created",
    occurredAt: "2026-11-30T09:15:00Z",
    source: "helpdesk",
    priority: "normal",
    data: { ticketId: "T-1042", subject: "Parcel not delivered", customer: { id: "C-88" } },
    ...overrides,
  };
}

export interface CreatedSubscription {
  id: string;
  secret: string;
}

export async function subscribe(hub: TestHub, url: string, body: Record<string, unknown> = {}): Promise<CreatedSubscription> {
  const response = await hub.request("/v1/subscriptions", { method: "POST", json: { url, events: ["*"], ...body } });
  const text = await response.text();
  assert.equal(response.status, 201, text);
  return JSON.parse(text) as CreatedSubscription;
}

export async function postEvent(hub: TestHub, event: Record<string, unknown>): Promise<{ id: string; duplicate: boolean }> {
  const response = await hub.request("/v1/events", { method: "POST", scope: "ingest", json: event });
  const text = await response.text();
  assert.equal(response.status, 202, text);
  return JSON.parse(text) as { id: string; duplicate: boolean };
}

export interface DeliveryState {
  id: string;
  subscriptionId: string;
  status: "pending" | "retrying" | "delivered" | "failed" | "skipped";
  attempts: number;
  lastError?: string;
}

/**
 * The deliveries the hub lists for an event (GET /v1/events/{id}); [] while it is not stored or not
 * fanned out. Fan-out writes an event's delivery records and its index in one script (CREATE in
 * src/delivery/delivery-scripts.ts), so once any delivery is listed the list is the event's whole
 * fan-out: a subscription missing from it gets no delivery of that event.
 */
export async function deliveriesOfEvent(hub: TestHub, eventId: string): Promise<DeliveryState[]> {
  const response = await hub.request(`/v1/events/${eventId}?limit=100`, { scope: "read" });
  if (response.status === 404) return [];
  assert.equal(response.status, 200);
  return ((await response.json()) as { deliveries: { items: DeliveryState[] } }).deliveries.items;
}

/** Waits until the delivery exists and is final (delivered, failed or skipped), and answers it. */
export function finalDelivery(hub: TestHub, deliveryId: string, timeoutMs = 5000): Promise<DeliveryState> {
  return eventually(async () => {
    const response = await hub.request(`/v1/deliveries/${deliveryId}`);
    if (response.status === 404) return undefined;
    assert.equal(response.status, 200);
    const delivery = (await response.json()) as DeliveryState;
    return delivery.status === "delivered" || delivery.status === "failed" || delivery.status === "skipped" ? delivery : undefined;
  }, timeoutMs, `delivery ${deliveryId} to be final`);
}

/** Waiting (every priority), active and delayed delivery jobs, from the hub's `kefu_queue_jobs`. */
export async function pendingJobs(hub: TestHub): Promise<number> {
  const metrics = await (await hub.request("/metrics", { scope: "none" })).text();
  const counts = [...metrics.matchAll(/^kefu_queue_jobs\{state="(waiting|active|delayed)",priority="\w+"\} (\d+)$/gm)];
  assert.ok(counts.length > 0, "kefu_queue_jobs is exported");
  return counts.reduce((sum, m) => sum + Number(m[2]), 0);
}

/**
 * The barrier for "nothing more arrives": waits until the delivery queue holds no job that could
 * still send (none waiting, active, or delayed for a retry, a breaker or a rate limit). A request is
 * in the receiver's log before its answer, and a job is done only after the answer, so from then on
 * a receiver's log is complete for every job queued so far. Call it once every delivery of the
 * events in question is final ({@link finalDelivery}; an event's delivery records are created
 * together, see {@link deliveriesOfEvent}): their jobs then exist, and any job beyond them (a
 * retry too many, a duplicate) is caught here.
 */
export async function queueDrained(hub: TestHub, timeoutMs = 5000): Promise<void> {
  await eventually(async () => (await pendingJobs(hub)) === 0, timeoutMs, "the delivery queue to drain");
}
