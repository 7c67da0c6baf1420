import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { HubConfig } from "../../src/config/config.ts";
import { startTestHub, type TestHub } from "../helpers/test-hub.ts";

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
