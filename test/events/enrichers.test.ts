import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { loadConfig } from "../../src/config/load-config.ts";
import type { EventEnricher, HubEvent, RoutingDecision } from "../../src/events/hub-event.ts";
import type { EventInput } from "../../src/events/ingest-service.ts";
import { hubPaths } from "../../src/paths.ts";
import { createSchemaRegistry } from "../../src/schemas/schema-registry.ts";
import { startEventPath, type EventPath } from "../helpers/event-path.ts";
import { FAST } from "../delivery/fixtures.ts";
import { startReceiver, verify, type Receiver } from "../delivery/receiver.ts";
import { deleteKeys, eventually, TEST_REDIS_URL } from "../helpers/test-hub.ts";

const decision: RoutingDecision = {
  businessLine: "logistics",
  queue: "logistics-tier1",
  agentGroup: "logistics",
  priority: "urgent",
  tags: ["vip"],
  slaMinutes: 30,
  matchedRules: ["vip-logistics"],
  rulesetVersion: 7,
  degraded: false,
};

const prefix = `test-${randomUUID().slice(0, 8)}`;
const observed: HubEvent[] = [];
const enrichedTypes: string[] = [];
let path: EventPath;
let receiver: Receiver;

const routing: EventEnricher = async (event) => {
  enrichedTypes.push(event.type);
  if (event.type !== "ticket.created") return event;
  return { ...event, routing: decision, priority: decision.priority };
};
const broken: EventEnricher = async (event) => {
  if (event.type === "ticket.closed") throw new Error("enricher bug");
  return event;
};

before(async () => {
  const schemas = createSchemaRegistry(hubPaths().schemas);
  const config = loadConfig({ env: {}, schemas, overrides: { ...FAST, redisPrefix: prefix, redisUrl: TEST_REDIS_URL, logLevel: "silent" } });
  path = await startEventPath({ config, schemas, enrichers: [broken, routing], observers: [(event) => observed.push(event)] });
  receiver = await startReceiver();
});
after(async () => {
  await path.close();
  await receiver.close();
  await deleteKeys(prefix);
});

function event(type: string, data: Record<string, unknown>): EventInput {
  return { id: `evt_${randomUUID()}`, type, occurredAt: "2026-11-30T09:15:00Z", source: "helpdesk", priority: "low", data };
}

test("enrichers run in order before the event is stored; a routing decision reaches receivers as data.routing", async () => {
  const sub = await path.delivery.subscriptions.create({ url: `${receiver.url}/routed`, events: ["ticket.created"] });
  const input = event("ticket.created", { ticketId: "T-1", subject: "Refund", customer: { id: "C-1" } });
  assert.deepEqual(await path.events.ingest.ingest(input), { id: input.id, duplicate: false });
  const request = await eventually(() => receiver.received.find((r) => r.headers["webhook-id"] === input.id), 5000, "routed delivery");
  const body = verify(sub.secret, request);
  assert.deepEqual(body.data, { ...input.data, routing: decision });
  const stored = await path.events.ingest.get(String(input.id));
  assert.equal(stored?.event.priority, "urgent");
  assert.deepEqual(stored?.event.routing, decision);
});

test("an enricher that throws does not lose the event: it is delivered as it was", async () => {
  const sub = await path.delivery.subscriptions.create({ url: `${receiver.url}/closed`, events: ["ticket.closed"] });
  const input = event("ticket.closed", { ticketId: "T-2", resolution: "resolved" });
  await path.events.ingest.ingest(input);
  const request = await eventually(() => receiver.received.find((r) => r.headers["webhook-id"] === input.id), 5000, "delivery despite the enricher");
  assert.deepEqual(verify(sub.secret, request).data, input.data);
  assert.ok(enrichedTypes.includes("ticket.closed"), "later enrichers still run");
});

test("observers are told of each newly accepted event once, not of duplicates", async () => {
  const input = event("order.updated", { orderId: "SO-1", status: "shipped" });
  await path.events.ingest.ingest(input);
  assert.deepEqual(await path.events.ingest.ingest(input), { id: input.id, duplicate: true });
  assert.equal(observed.filter((e) => e.id === input.id).length, 1);
  assert.equal(observed.find((e) => e.id === input.id)?.type, "order.updated");
});
