import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { eventually, startTestHub, type TestHub } from "../helpers/test-hub.ts";
import { manufacturerRuleset } from "./fixtures/generate.ts";

let hub: TestHub;
before(async () => {
  hub = await startTestHub();
  const res = await hub.request("/v1/routing/ruleset", { method: "PUT", json: manufacturerRuleset(), headers: { "if-match": '"0"' } });
  assert.equal(res.status, 200);
});
after(async () => {
  await hub.close();
});

const ticket = (id: string, subject: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: "ticket.created",
  occurredAt: "2026-11-30T09:00:00Z",
  source: "zammad",
  priority: "low",
  data: { ticketId: `T-${id}`, subject, customer: { id: "C-0001" }, ...extra },
});

interface Detail {
  event: { priority: string; routing?: { businessLine: string; queue: string; priority: string; rulesetVersion: number; matchedRules: string[] } };
}

test("accepted ticket events carry the routing decision and the raised priority", async () => {
  const posted = await hub.request("/v1/events", { method: "POST", scope: "ingest", json: ticket("rt-1", "Smoke from the compressor", { productLine: "compressors" }) });
  assert.equal(posted.status, 202);
  const detail = await eventually(async () => {
    const res = await hub.request("/v1/events/rt-1", { scope: "read" });
    const body = (await res.json()) as Detail;
    return res.status === 200 && body.event.routing ? body : undefined;
  }, 5000, "the routed event");
  assert.equal(detail.event.routing?.businessLine, "safety");
  assert.deepEqual(detail.event.routing?.matchedRules, ["safety-incident"]);
  assert.equal(detail.event.routing?.rulesetVersion, 1);
  assert.equal(detail.event.priority, "urgent");

  const metrics = await (await fetch(`${hub.url}/metrics`)).text();
  assert.match(metrics, /kefu_routing_decisions_total\{business_line="safety",degraded="(true|false)"\} 1/);
});

test("simulate can replay the last routed events", async () => {
  for (const [id, subject, productLine] of [["rt-2", "Pump noise", "pumps"], ["rt-3", "Invoice missing", "valves"]] as const) {
    const res = await hub.request("/v1/events", { method: "POST", scope: "ingest", json: ticket(id, subject, { productLine, region: "DE" }) });
    assert.equal(res.status, 202);
  }
  const candidate = manufacturerRuleset();
  candidate.rules = candidate.rules.filter((rule) => rule.name !== "billing");
  const report = await eventually(async () => {
    const res = await hub.request("/v1/routing/simulate", { method: "POST", scope: "read", json: { ruleset: candidate, last: 10 } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { total: number; changed: number; changes: { eventId: string; after: { businessLine: string } }[] };
    return body.total === 3 ? body : undefined;
  }, 5000, "three routed events kept");
  assert.equal(report.changed, 1);
  assert.equal(report.changes[0]?.eventId, "rt-3");
  assert.equal(report.changes[0]?.after.businessLine, "valves");
});
