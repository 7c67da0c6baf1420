import assert from "node:assert/strict";
import { test } from "node:test";
import type { OrderContext } from "../../src/connectors/order-context.ts";
import { eventually } from "../helpers/test-hub.ts";
import { startTestHubWithDemo, type TestHubWithDemo } from "../helpers/test-hub-with-demo.ts";

// The "Done when" of the order-context issue, over real HTTP, with the real plugin host and the
// demo business system's latency and error knobs. demo-crm's own cache is off so that the demo
// system sees (and counts) every CRM call.
const noCrmCache = { plugins: { "demo-crm": { config: { cacheTtlSeconds: 0 } } } };

async function getContext(hub: TestHubWithDemo, orderId: string): Promise<{ body: OrderContext; ms: number }> {
  const started = performance.now();
  const res = await hub.request(`/v1/orders/${orderId}/context`, { scope: "read" });
  const text = await res.text();
  const ms = performance.now() - started;
  assert.equal(res.status, 200, text);
  return { body: JSON.parse(text) as OrderContext, ms };
}

async function breakerOf(hub: TestHubWithDemo, plugin: string, method: string): Promise<string | undefined> {
  const res = await hub.request(`/v1/plugins/${plugin}`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { breakers: Record<string, string> }).breakers[method];
}

test("a slow carrier API: shipments degraded within the deadline, then fresh from the late call, then stale while refreshed", async () => {
  const hub = await startTestHubWithDemo({ ...noCrmCache, contextPartTimeoutMs: 300, contextDeadlineMs: 600, contextShipmentsTtlSeconds: 1 });
  try {
    const orderId = hub.demo.orderIds()[7]!;
    // The carrier takes 1.5 s: bounds well above the 600 ms deadline still tell "answered at the
    // deadline" from "waited for the carrier" on a loaded machine.
    hub.demo.setKnobs("logistics", { latencyMs: 1500 });
    const first = await getContext(hub, orderId);
    assert.ok(first.ms < 600 + 500, `answered after ${first.ms.toFixed(0)} ms; deadline 600`);
    assert.deepEqual(first.body.degraded, [{ part: "shipments", reason: "timeout" }]);
    assert.equal(first.body.shipments, null);
    assert.equal(first.body.order?.id, orderId);
    assert.equal(first.body.customer?.id, first.body.order?.customerId);

    const fresh = await eventually(async () => {
      const { body } = await getContext(hub, orderId);
      return body.sources.shipments?.cache === "hit" ? body : undefined;
    }, 3000, "the late shipments call to fill the cache");
    assert.deepEqual(fresh.degraded, []);
    assert.ok(Array.isArray(fresh.shipments));
    assert.equal(hub.demo.counts().logistics, 1, "the late call was used, not repeated");

    // Past the 1 s TTL the old shipments answer at once while one refresh (1.5 s) runs.
    const stale = await eventually(async () => {
      const { body, ms } = await getContext(hub, orderId);
      return body.sources.shipments?.cache === "stale" ? { body, ms } : undefined;
    }, 3000, "the shipments to go stale");
    assert.deepEqual(stale.body.shipments, fresh.shipments);
    assert.deepEqual(stale.body.degraded, []);
    assert.ok(stale.ms < 500, `a stale answer took ${stale.ms.toFixed(0)} ms`);
    await eventually(async () => (await getContext(hub, orderId)).body.sources.shipments?.cache === "hit", 3000, "the refresh");
    assert.equal(hub.demo.counts().logistics, 2);
  } finally {
    await hub.close();
  }
});

test("a failing payments API: the breaker opens after its volume threshold, answers stay fast without calls, a half-open probe closes it", async () => {
  const hub = await startTestHubWithDemo({
    ...noCrmCache,
    contextBreakerVolumeThreshold: 4,
    contextBreakerResetMs: 800,
  });
  try {
    const orderIds = hub.demo.orderIds().slice(20, 24);
    hub.demo.setKnobs("payments", { errorRate: 1 });
    for (const [i, orderId] of orderIds.entries()) {
      const { body } = await getContext(hub, orderId);
      assert.deepEqual(body.degraded, [{ part: "payments", reason: "plugin_error" }]);
      if (i === 0) assert.equal(await breakerOf(hub, "demo-payments", "getPayments"), "closed", "one failure does not open it");
    }
    assert.equal(await breakerOf(hub, "demo-payments", "getPayments"), "open");
    const metrics = await (await fetch(`${hub.url}/metrics`)).text();
    assert.match(metrics, /kefu_breaker_state\{plugin="demo-payments",method="getPayments",origin=""\} 2/);

    // Open: cached orders answer in under 5 ms, payments degraded at once, no call to payments.
    hub.demo.resetCounts();
    const times: number[] = [];
    for (let round = 0; round < 3; round += 1) {
      for (const orderId of orderIds) {
        const { body, ms } = await getContext(hub, orderId);
        assert.deepEqual(body.degraded, [{ part: "payments", reason: "circuit_open" }]);
        assert.equal(body.sources.order?.cache, "hit");
        times.push(ms);
      }
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    assert.ok(median < 5, `median ${median.toFixed(2)} ms over ${times.length} answers (all: ${times.map((t) => t.toFixed(1)).join(", ")})`);
    assert.deepEqual(hub.demo.counts(), { orders: 0, payments: 0, logistics: 0, crm: 0 });

    // The API recovers; after the reset timeout one probe goes through and closes the breaker.
    hub.demo.setKnobs("payments", { errorRate: 0 });
    const recovered = await eventually(async () => {
      const { body } = await getContext(hub, orderIds[0]!);
      return body.degraded.length === 0 ? body : undefined;
    }, 5000, "a half-open probe to succeed");
    assert.ok(Array.isArray(recovered.payments));
    assert.equal(recovered.sources.payments?.cache, "miss");
    assert.equal(hub.demo.counts().payments, 1, "nothing but the probe reached payments");
    assert.equal(await breakerOf(hub, "demo-payments", "getPayments"), "closed");
    const next = await getContext(hub, orderIds[1]!);
    assert.deepEqual(next.body.degraded, []);
    assert.equal(hub.demo.counts().payments, 2);
  } finally {
    await hub.close();
  }
});

test("200 concurrent requests for one uncached order make one call per plugin method", async () => {
  const hub = await startTestHubWithDemo(noCrmCache);
  try {
    for (const api of ["orders", "payments", "logistics", "crm"] as const) hub.demo.setKnobs(api, { latencyMs: 50 });
    const orderId = hub.demo.orderIds()[42]!;
    hub.demo.resetCounts();
    const answers = await Promise.all(Array.from({ length: 200 }, () => getContext(hub, orderId)));
    assert.equal(answers.length, 200);
    for (const { body } of answers) {
      assert.deepEqual(body.degraded, []);
      assert.equal(body.order?.id, orderId);
    }
    assert.deepEqual(hub.demo.counts(), { orders: 1, payments: 1, logistics: 1, crm: 1 });
  } finally {
    await hub.close();
  }
});
