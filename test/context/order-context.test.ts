import assert from "node:assert/strict";
import { test } from "node:test";
import { isHubError } from "../../src/http/errors.ts";
import { eventually } from "../helpers/test-hub.ts";
import { buildContext } from "./build-context.ts";
import { seededCaller } from "./in-process-caller.ts";

/** The key of the payments method's breaker. */
const PAYMENTS_METHOD = { plugin: "mem-payments", method: "getPayments" };

test("fetches every part once, then serves them from the cache", async () => {
  const caller = seededCaller();
  const { service, close } = buildContext(caller);
  try {
    const first = await service.getContext({ orderId: "SO-1" });
    assert.equal(first.order?.id, "SO-1");
    assert.equal(first.payments?.[0]?.id, "PAY-1");
    assert.equal(first.shipments?.[0]?.trackingNo, "SF1");
    assert.equal(first.customer?.id, "C-1");
    assert.deepEqual(first.degraded, []);
    assert.deepEqual(Object.values(first.sources).map((s) => s.cache), ["miss", "miss", "miss", "miss"]);
    assert.equal(first.sources.order?.plugin, "mem-orders");
    const second = await service.getContext({ orderId: "SO-1" });
    assert.deepEqual(Object.values(second.sources).map((s) => s.cache), ["hit", "hit", "hit", "hit"]);
    assert.deepEqual(second.order, first.order);
    assert.deepEqual(caller.calls, { getOrder: 1, getPayments: 1, track: 1, getCustomer: 1 });
  } finally {
    close();
  }
});

test("parts limit the work and the answer", async () => {
  const caller = seededCaller();
  const { service, close } = buildContext(caller);
  try {
    const context = await service.getContext({ orderId: "SO-2", parts: ["order", "shipments"] });
    assert.deepEqual(Object.keys(context).sort(), ["degraded", "order", "orderId", "shipments", "sources"]);
    assert.deepEqual(Object.keys(context.sources).sort(), ["order", "shipments"]);
    assert.deepEqual(caller.calls, { getOrder: 1, getPayments: 0, track: 1, getCustomer: 0 });
    // The customer alone still needs the order, to learn who the customer is, but shows only the customer.
    const customerOnly = await service.getContext({ orderId: "SO-2", parts: ["customer"] });
    assert.equal(customerOnly.customer?.id, "C-2");
    assert.equal(customerOnly.order, undefined);
  } finally {
    close();
  }
});

test("the customer comes after the order, or alongside it when its id is given", async () => {
  const caller = seededCaller();
  for (const kind of ["orders", "payments", "logistics", "crm"] as const) caller.set(kind, { latencyMs: 60 });
  const { service, close } = buildContext(caller, { partTimeoutMs: 500, deadlineMs: 1000 });
  try {
    let started = performance.now();
    await service.getContext({ orderId: "SO-1" });
    const sequential = performance.now() - started;
    started = performance.now();
    const context = await service.getContext({ orderId: "SO-2", customerId: "C-2" });
    const concurrent = performance.now() - started;
    assert.equal(context.customer?.id, "C-2");
    assert.ok(sequential >= 115, `order then customer took ${sequential.toFixed(0)} ms`);
    assert.ok(concurrent < 115 && concurrent >= 55, `all at once took ${concurrent.toFixed(0)} ms`);
  } finally {
    close();
  }
});

test("an order the orders plugin does not know is not_found, and is not cached", async () => {
  const caller = seededCaller();
  const { service, close } = buildContext(caller);
  try {
    await assert.rejects(service.getContext({ orderId: "SO-404" }), (e) => isHubError(e) && e.code === "not_found");
    await assert.rejects(service.getContext({ orderId: "SO-404" }), (e) => isHubError(e) && e.code === "not_found");
    assert.equal(caller.calls.getOrder, 2);
    // The payments and shipments of an unknown order are empty (and cached), not errors.
    const context = await service.getContext({ orderId: "SO-404", parts: ["payments", "shipments"] });
    assert.deepEqual([context.payments, context.shipments, context.degraded], [[], [], []]);
  } finally {
    close();
  }
});

test("a slow part is degraded within its timeout, and its late answer fills the cache", async () => {
  const caller = seededCaller();
  caller.set("logistics", { latencyMs: 300 });
  const { service, close } = buildContext(caller, { partTimeoutMs: 100, deadlineMs: 250 });
  try {
    const started = performance.now();
    const context = await service.getContext({ orderId: "SO-1" });
    const took = performance.now() - started;
    assert.ok(took < 200, `answered after ${took.toFixed(0)} ms`);
    assert.deepEqual(context.degraded, [{ part: "shipments", reason: "timeout" }]);
    assert.equal(context.shipments, null);
    assert.equal(context.sources.shipments?.cache, "miss");
    assert.equal(context.customer?.id, "C-1");
    const later = await eventually(async () => {
      const next = await service.getContext({ orderId: "SO-1" });
      return next.sources.shipments?.cache === "hit" ? next : undefined;
    }, 2000, "the late shipments to be cached");
    assert.equal(later.shipments?.[0]?.trackingNo, "SF1");
    assert.deepEqual(later.degraded, []);
    assert.equal(caller.calls.track, 1, "the late call was used, not repeated");
  } finally {
    close();
  }
});

test("the deadline bounds the whole answer: a customer looked up after a slow order gets what is left", async () => {
  const caller = seededCaller();
  caller.set("orders", { latencyMs: 120 });
  caller.set("crm", { latencyMs: 120 });
  const { service, close } = buildContext(caller, { partTimeoutMs: 200, deadlineMs: 200 });
  try {
    const started = performance.now();
    const context = await service.getContext({ orderId: "SO-3" });
    const took = performance.now() - started;
    assert.ok(took < 290, `answered after ${took.toFixed(0)} ms, deadline 200`);
    assert.equal(context.order?.id, "SO-3");
    assert.deepEqual(context.degraded, [{ part: "customer", reason: "timeout" }]);
  } finally {
    close();
  }
});

test("past its TTL an entry is served stale at once while one refresh runs", async () => {
  const caller = seededCaller();
  const { service, close } = buildContext(caller, { ttlMs: 80, maxStaleMs: 5000 });
  try {
    await service.getContext({ orderId: "SO-1" });
    caller.set("payments", { latencyMs: 100 });
    caller.payments.set("SO-1", []);
    await eventually(async () => (await service.getContext({ orderId: "SO-1", parts: ["payments"] })).sources.payments?.cache === "stale", 2000, "stale");
    const stale = await service.getContext({ orderId: "SO-1", parts: ["payments"] });
    assert.equal(stale.payments?.length, 1, "the old value while the refresh runs");
    assert.ok((stale.sources.payments?.durationMs ?? 99) < 50);
    const fresh = await eventually(async () => {
      const next = await service.getContext({ orderId: "SO-1", parts: ["payments"] });
      return next.sources.payments?.cache === "hit" ? next : undefined;
    }, 2000, "the refreshed payments");
    assert.deepEqual(fresh.payments, []);
    assert.equal(caller.calls.getPayments, 2, "one refresh for all the stale answers");
  } finally {
    close();
  }
});

test("a failing method is degraded, opens its breaker after the volume threshold, then is not called", async () => {
  const caller = seededCaller(8);
  caller.set("payments", { failWith: "plugin_error" });
  const { service, breakers, close } = buildContext(caller, { breaker: { volumeThreshold: 4, resetTimeoutMs: 200 } });
  try {
    const first = await service.getContext({ orderId: "SO-1" });
    assert.deepEqual(first.degraded, [{ part: "payments", reason: "plugin_error" }]);
    assert.equal(breakers.state(PAYMENTS_METHOD), "closed", "one failure does not open it");
    for (const id of ["SO-2", "SO-3", "SO-4"]) await service.getContext({ orderId: id });
    assert.equal(breakers.state(PAYMENTS_METHOD), "open");
    const callsWhenOpened = caller.calls.getPayments;
    const open = await service.getContext({ orderId: "SO-1" });
    assert.deepEqual(open.degraded, [{ part: "payments", reason: "circuit_open" }]);
    assert.equal(caller.calls.getPayments, callsWhenOpened, "no call while open");
    caller.set("payments", {});
    await eventually(() => breakers.state(PAYMENTS_METHOD) === "halfOpen", 2000, "half-open");
    const recovered = await service.getContext({ orderId: "SO-1" });
    assert.deepEqual(recovered.degraded, []);
    assert.equal(recovered.payments?.[0]?.id, "PAY-1");
    assert.equal(breakers.state(PAYMENTS_METHOD), "closed");
  } finally {
    close();
  }
});

test("while a breaker is open, a stale entry is served without a call", async () => {
  const caller = seededCaller(6);
  const { service, breakers, close } = buildContext(caller, { ttlMs: 50, breaker: { volumeThreshold: 3 } });
  try {
    await service.getContext({ orderId: "SO-1" });
    caller.set("payments", { failWith: "plugin_error" });
    for (const id of ["SO-2", "SO-3", "SO-4"]) await service.getContext({ orderId: id });
    assert.equal(breakers.state(PAYMENTS_METHOD), "open");
    await eventually(async () => (await service.getContext({ orderId: "SO-1", parts: ["payments"] })).sources.payments?.cache === "stale", 2000, "stale");
    const calls = caller.calls.getPayments;
    const context = await service.getContext({ orderId: "SO-1" });
    assert.equal(context.sources.payments?.cache, "stale");
    assert.equal(context.payments?.[0]?.id, "PAY-1");
    assert.deepEqual(context.degraded, []);
    assert.equal(caller.calls.getPayments, calls);
  } finally {
    close();
  }
});

test("concurrent requests for one uncached order make one call per method", async () => {
  const caller = seededCaller();
  for (const kind of ["orders", "payments", "logistics", "crm"] as const) caller.set(kind, { latencyMs: 30 });
  const { service, close } = buildContext(caller);
  try {
    const answers = await Promise.all(Array.from({ length: 100 }, () => service.getContext({ orderId: "SO-1" })));
    assert.ok(answers.every((a) => a.degraded.length === 0 && a.customer?.id === "C-1"));
    assert.deepEqual(caller.calls, { getOrder: 1, getPayments: 1, track: 1, getCustomer: 1 });
  } finally {
    close();
  }
});

test("a kind without a plugin is degraded as plugin_unavailable; a degraded order leaves the customer out", async () => {
  const caller = seededCaller();
  delete caller.plugins.logistics;
  caller.set("orders", { failWith: "plugin_output_invalid" });
  const { service, close } = buildContext(caller);
  try {
    const context = await service.getContext({ orderId: "SO-1" });
    assert.deepEqual(context.degraded, [
      { part: "order", reason: "plugin_output_invalid" },
      { part: "shipments", reason: "plugin_unavailable" },
      { part: "customer", reason: "order_unavailable" },
    ]);
    assert.equal(context.sources.shipments?.plugin, null);
    assert.equal(context.order, null);
  } finally {
    close();
  }
});

test("invalidating an order drops its parts, and a load that started before is not cached", async () => {
  const caller = seededCaller();
  const { service, cache, close } = buildContext(caller);
  try {
    await service.getContext({ orderId: "SO-1" });
    await service.getContext({ orderId: "SO-2" });
    const policy = { ttlMs: 10_000, maxStaleMs: 0 };
    await service.invalidateOrder("SO-1");
    assert.equal(cache.peek("order:SO-1", policy), undefined);
    assert.equal(cache.peek("payments:SO-1", policy), undefined);
    assert.equal(cache.peek("shipments:SO-1", policy), undefined);
    assert.ok(cache.peek("customer:C-1", policy), "an order change leaves the customer cached");
    caller.set("orders", { latencyMs: 80 });
    const pending = service.getContext({ orderId: "SO-2", parts: ["order"] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    caller.orders.get("SO-2")!.status = "refunded";
    await service.invalidateOrder("SO-2", { includeCustomer: true });
    await pending;
    assert.equal(cache.peek("order:SO-2", policy), undefined, "the load that started before the change was dropped");
    assert.equal(cache.peek("customer:C-2", policy), undefined, "includeCustomer drops the customer the order names");
    const calls = caller.calls.getOrder;
    assert.equal((await service.getContext({ orderId: "SO-2" })).order?.status, "refunded");
    assert.equal(caller.calls.getOrder, calls + 1);
  } finally {
    close();
  }
});

test("customers: found, unknown, and an open breaker", async () => {
  const caller = seededCaller();
  const { service, close } = buildContext(caller, { breaker: { volumeThreshold: 2 } });
  try {
    const answer = await service.getCustomer("C-2");
    assert.equal(answer.customer.name, "customer 2");
    assert.equal(answer.sources.customer.cache, "miss");
    await assert.rejects(service.getCustomer("C-404"), (e) => isHubError(e) && e.code === "not_found");
    caller.set("crm", { failWith: "plugin_error" });
    // Two successes so far: the third failure makes 3 of 5 calls, over 50%.
    for (let i = 0; i < 3; i += 1) await assert.rejects(service.getCustomer("C-3"), (e) => isHubError(e) && e.code === "plugin_error");
    await assert.rejects(
      service.getCustomer("C-3"),
      (e) => isHubError(e) && e.code === "plugin_unavailable" && /circuit breaker is open/.test(e.message) && e.options.headers?.["retry-after"] === "10",
    );
    caller.set("crm", { latencyMs: 400 });
    await assert.rejects(service.getCustomer("C-1"), (e) => isHubError(e) && e.code === "plugin_unavailable");
  } finally {
    close();
  }
});
