import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { generateDemoData } from "../../plugins/demo-business-system/data.ts";
import { startTestHubWithDemo, type TestHubWithDemo } from "../helpers/test-hub-with-demo.ts";
import { manufacturerRuleset } from "./fixtures/generate.ts";

// Through the real plugin host: the demo crm and orders plugins in isolated-vm, calling the demo
// business system over HTTP.
const customers = [...generateDemoData(42, 300).customers.values()];
const platinum = customers.filter((c) => c.tier === "platinum" && c.riskLevel === "low").map((c) => c.id);

let hub: TestHubWithDemo;
before(async () => {
  hub = await startTestHubWithDemo({ routingFactTimeoutMs: 1000 });
  const res = await hub.request("/v1/routing/ruleset", { method: "PUT", json: manufacturerRuleset(), headers: { "if-match": '"0"' } });
  assert.equal(res.status, 200);
  // The first call starts the plugins' isolates; warm them so the tests measure routing.
  const warm = customers.find((c) => c.tier !== "platinum")?.id ?? "C-0001";
  await decide(warm);
});
after(async () => {
  await hub.close();
});

async function decide(customerId: string): Promise<{ decision: { matchedRules: string[]; degraded: boolean }; trace: { facts: Record<string, unknown> } }> {
  const res = await hub.request("/v1/routing/decide", { method: "POST", scope: "read", json: { event: { type: "ticket.created", data: { subject: "hello", customer: { id: customerId } } } } });
  assert.equal(res.status, 200);
  return (await res.json()) as { decision: { matchedRules: string[]; degraded: boolean }; trace: { facts: Record<string, unknown> } };
}

test("customer.tier comes from the crm plugin", async () => {
  assert.ok(platinum.length >= 2, "the demo data has platinum customers");
  const { decision, trace } = await decide(platinum[0] as string);
  assert.deepEqual(decision.matchedRules, ["key-account-platinum"]);
  assert.equal(decision.degraded, false);
  assert.equal(trace.facts["customer.tier"], "platinum");
});

test("a crm plugin slower than the deadline yields a degraded decision within the deadline, not an error", async () => {
  hub.demo.setKnobs("crm", { latencyMs: 5000 });
  const started = performance.now();
  const { decision } = await decide(platinum[1] as string);
  const elapsed = performance.now() - started;
  assert.equal(decision.degraded, true);
  assert.deepEqual(decision.matchedRules, [], "the fallback tier (regular) is not platinum");
  // decide() runs the fast path and then the trace; each waits at most the 1000 ms deadline.
  assert.ok(elapsed < 3000, `answered in ${Math.round(elapsed)} ms`);
  hub.demo.setKnobs("crm", { latencyMs: 0 });
});
