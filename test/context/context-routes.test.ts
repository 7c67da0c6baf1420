import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { OrderContext } from "../../src/connectors/order-context.ts";
import { startTestHubWithDemo, type TestHubWithDemo } from "../helpers/test-hub-with-demo.ts";
import { expectProblem } from "../helpers/problem.ts";

let hub: TestHubWithDemo;
before(async () => {
  // demo-crm keeps its own copy of customers in kefu.cache; off, so that the demo system counts every CRM call.
  hub = await startTestHubWithDemo({ plugins: { "demo-crm": { config: { cacheTtlSeconds: 0 } } } });
});
after(() => hub.close());

async function context(path: string, status = 200): Promise<OrderContext> {
  const res = await hub.request(path, { scope: "read" });
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  return JSON.parse(text) as OrderContext;
}

test("the context of an order has every part, matching its schema, and names its sources", async () => {
  const orderId = hub.demo.orderIds()[0]!;
  const body = await context(`/v1/orders/${orderId}/context`);
  const validate = hub.schemas.validator("context/order-context.schema.json");
  assert.ok(validate(body), JSON.stringify(validate.errors));
  assert.equal(body.orderId, orderId);
  assert.equal(body.order?.id, orderId);
  assert.equal(body.customer?.id, body.order?.customerId);
  assert.ok(Array.isArray(body.payments) && Array.isArray(body.shipments));
  assert.deepEqual(body.degraded, []);
  assert.deepEqual(Object.keys(body), ["orderId", "order", "payments", "shipments", "customer", "degraded", "sources"]);
  assert.deepEqual(
    Object.fromEntries(Object.entries(body.sources).map(([part, s]) => [part, [s.plugin, s.cache]])),
    { order: ["demo-orders", "miss"], payments: ["demo-payments", "miss"], shipments: ["demo-logistics", "miss"], customer: ["demo-crm", "miss"] },
  );
  const again = await context(`/v1/orders/${orderId}/context`);
  assert.ok(Object.values(again.sources).every((s) => s.cache === "hit"));
});

test("?parts limits the work, ?customerId fetches the customer alongside", async () => {
  const [orderId] = hub.demo.orderIds().slice(1, 2);
  hub.demo.resetCounts();
  const body = await context(`/v1/orders/${orderId}/context?parts=order,shipments`);
  assert.deepEqual(Object.keys(body.sources), ["order", "shipments"]);
  assert.equal(body.payments, undefined);
  assert.deepEqual(hub.demo.counts(), { orders: 1, payments: 0, logistics: 1, crm: 0 });
  const customerId = hub.demo.customerIds()[5]!;
  const withCustomer = await context(`/v1/orders/${orderId}/context?parts=customer&customerId=${customerId}`);
  assert.equal(withCustomer.customer?.id, customerId);
});

test("an order the orders plugin does not know is 404 problem+json", async () => {
  const res = await hub.request("/v1/orders/SO-DOES-NOT-EXIST/context", { scope: "read" });
  const problem = await expectProblem(res, 404, "not_found");
  assert.match(problem.detail, /SO-DOES-NOT-EXIST/);
});

test("bad query and path values are 400 with the failing field", async () => {
  const orderId = hub.demo.orderIds()[0]!;
  let problem = await expectProblem(await hub.request(`/v1/orders/${orderId}/context?parts=order,invoices`, { scope: "read" }), 400, "validation_failed");
  assert.equal(problem.errors?.[0]?.pointer, "/query/parts");
  problem = await expectProblem(await hub.request(`/v1/orders/${orderId}/context?color=red`, { scope: "read" }), 400, "validation_failed");
  assert.equal(problem.errors?.[0]?.pointer, "/query/color");
  problem = await expectProblem(await hub.request(`/v1/orders/${"x".repeat(129)}/context`, { scope: "read" }), 400, "validation_failed");
  assert.equal(problem.errors?.[0]?.pointer, "/path/orderId");
  problem = await expectProblem(await hub.request("/v1/customers/a%20b", { scope: "read" }), 400, "validation_failed");
  assert.equal(problem.errors?.[0]?.pointer, "/path/customerId");
});

test("read scope reads; only admin drops the cache", async () => {
  const orderId = hub.demo.orderIds()[2]!;
  await expectProblem(await hub.request(`/v1/orders/${orderId}/context`, { scope: "none" }), 401, "unauthorized");
  await expectProblem(await hub.request(`/v1/orders/${orderId}/context`, { scope: "ingest" }), 403, "forbidden");
  await expectProblem(await hub.request("/v1/customers/C-0001", { scope: "ingest" }), 403, "forbidden");
  await expectProblem(await hub.request(`/v1/orders/${orderId}/context/cache`, { method: "DELETE", scope: "read" }), 403, "forbidden");
});

test("DELETE .../context/cache makes the next answer fetch every part again", async () => {
  const orderId = hub.demo.orderIds()[3]!;
  await context(`/v1/orders/${orderId}/context`);
  assert.ok(Object.values((await context(`/v1/orders/${orderId}/context`)).sources).every((s) => s.cache === "hit"));
  const res = await hub.request(`/v1/orders/${orderId}/context/cache`, { method: "DELETE" });
  assert.equal(res.status, 204);
  hub.demo.resetCounts();
  const body = await context(`/v1/orders/${orderId}/context`);
  assert.ok(Object.values(body.sources).every((s) => s.cache === "miss"));
  assert.deepEqual(hub.demo.counts(), { orders: 1, payments: 1, logistics: 1, crm: 1 });
  assert.equal((await hub.request("/v1/orders/never-cached/context/cache", { method: "DELETE" })).status, 204);
});

test("GET /v1/customers/{id}: the customer, or 404", async () => {
  const customerId = hub.demo.customerIds()[0]!;
  const res = await hub.request(`/v1/customers/${customerId}`, { scope: "read" });
  assert.equal(res.status, 200);
  const body: unknown = await res.json();
  const validate = hub.schemas.validator("context/customer-answer.schema.json");
  assert.ok(validate(body), JSON.stringify(validate.errors));
  await expectProblem(await hub.request("/v1/customers/C-NOBODY", { scope: "read" }), 404, "not_found");
});

test("breaker states show in GET /v1/plugins and /metrics, with the context metrics", async () => {
  const res = await hub.request("/v1/plugins");
  assert.equal(res.status, 200);
  const { items } = (await res.json()) as { items: { name: string; breakers: Record<string, string> }[] };
  assert.deepEqual(items.find((p) => p.name === "demo-payments")?.breakers, { getPayments: "closed" });
  const metrics = await (await fetch(`${hub.url}/metrics`)).text();
  assert.match(metrics, /kefu_breaker_state\{plugin="demo-orders",method="getOrder",origin=""\} 0/);
  assert.match(metrics, /kefu_context_cache_total\{part="order",result="hit"\} \d+/);
  assert.match(metrics, /kefu_context_duration_seconds_count\{outcome="complete"\} \d+/);
  assert.match(metrics, /kefu_context_duration_seconds_count\{outcome="not_found"\} \d+/);
});

test("an accepted order.updated event drops the order's cached parts", async () => {
  const orderId = hub.demo.orderIds()[9]!;
  await context(`/v1/orders/${orderId}/context`);
  assert.equal((await context(`/v1/orders/${orderId}/context`)).sources.order?.cache, "hit");
  const res = await hub.request("/v1/events", {
    method: "POST",
    scope: "ingest",
    json: { type: "order.updated", occurredAt: new Date().toISOString(), source: "shop-backend", data: { orderId, status: "refunded" } },
  });
  assert.equal(res.status, 202, await res.clone().text());
  const after = await context(`/v1/orders/${orderId}/context`);
  assert.deepEqual(
    Object.fromEntries(Object.entries(after.sources).map(([part, s]) => [part, s.cache])),
    { order: "miss", payments: "miss", shipments: "miss", customer: "hit" },
  );
});

test("GET /v1/customers/{id} has nothing to degrade to: a CRM slower than the part timeout is 504", async () => {
  hub.demo.setKnobs("crm", { latencyMs: 1200 });
  try {
    const started = performance.now();
    const customerId = hub.demo.customerIds().at(-1)!; // not cached by the tests above
    await expectProblem(await hub.request(`/v1/customers/${customerId}`, { scope: "read" }), 504, "plugin_timeout");
    assert.ok(performance.now() - started < 800 + 300, "answered at the part timeout");
  } finally {
    hub.demo.setKnobs("crm", { latencyMs: 0 });
  }
});
