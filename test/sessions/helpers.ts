import type { TestHub } from "../helpers/test-hub.ts";

let sequence = 0;

/** A chat.session.opened event for `customerId`, posted through POST /v1/events (202 expected). */
export async function openSession(hub: TestHub, sessionId: string, customerId: string, extra: Record<string, unknown> = {}): Promise<void> {
  await postEvent(hub, "chat.session.opened", { sessionId, channel: "web", customer: { id: customerId, name: "Test Customer" }, ...extra });
}

export async function closeSession(hub: TestHub, sessionId: string): Promise<void> {
  await postEvent(hub, "chat.session.closed", { sessionId, closedBy: "agent" });
}

export async function postEvent(hub: TestHub, type: string, data: Record<string, unknown>, id = `evt-${process.pid}-${++sequence}-${Math.random().toString(36).slice(2)}`): Promise<string> {
  const response = await hub.request("/v1/events", { method: "POST", scope: "ingest", json: { id, type, occurredAt: new Date().toISOString(), source: "test", data } });
  if (response.status !== 202) throw new Error(`POST /v1/events answered ${response.status}: ${await response.text()}`);
  return id;
}

/** A behaviour event envelope. */
export function behavior(customerId: string, type: string, data: Record<string, unknown> = {}, id = `bev-${++sequence}-${Math.random().toString(36).slice(2)}`, occurredAt = new Date().toISOString()): Record<string, unknown> {
  return { id, customerId, type, occurredAt, data };
}

export async function postBehavior(hub: TestHub, events: unknown[]): Promise<{ results: { index: number; outcome: string; id?: string; errors?: { pointer: string; message: string }[] }[] }> {
  const response = await hub.request("/v1/behavior-events", { method: "POST", scope: "ingest", json: { events } });
  if (response.status !== 200) throw new Error(`POST /v1/behavior-events answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { results: { index: number; outcome: string; id?: string; errors?: { pointer: string; message: string }[] }[] };
}

export interface SessionBody {
  sessionId: string;
  state: string;
  customer: { id: string; profile: Record<string, unknown> | null };
  risk: { level: string; reasons: string[] };
  behavior: { recent: { id: string; type: string }[]; counters: Record<string, number>; latest: Record<string, unknown> };
  routing: Record<string, unknown> | null;
  messageCount: number;
  lastMessageAt: string | null;
  version: number;
}

export async function getSession(hub: TestHub, sessionId: string): Promise<SessionBody | undefined> {
  const response = await hub.request(`/v1/sessions/${encodeURIComponent(sessionId)}`, { scope: "read" });
  if (response.status === 404) return undefined;
  if (response.status !== 200) throw new Error(`GET session answered ${response.status}`);
  return (await response.json()) as SessionBody;
}
