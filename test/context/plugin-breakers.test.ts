import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { breakerStatesOf, createPluginBreakers } from "../../src/connectors/plugin-breakers.ts";
import { createBreakerStateMetric } from "../../src/observability/breaker-state-metric.ts";
import { isBreakerOpenError } from "../../src/resilience/breaker-errors.ts";

const settings = { volumeThreshold: 4, errorThresholdPercentage: 50, resetTimeoutMs: 60_000, rollingWindowMs: 10_000 };
const fail = async (): Promise<never> => {
  throw new Error("payments down");
};

test("breakers are per plugin method, listed per plugin and exported as kefu_breaker_state", async () => {
  const metrics = new Registry();
  const breakers = createPluginBreakers({ settings, metric: createBreakerStateMetric(metrics) });
  try {
    const payments = { plugin: "demo-payments", method: "getPayments" };
    for (let i = 0; i < 4; i += 1) await assert.rejects(breakers.fire(payments, fail));
    assert.equal(await breakers.fire({ plugin: "demo-orders", method: "getOrder" }, async () => null), null);
    assert.equal(breakers.state({ plugin: "demo-orders", method: "getOrder" }), "closed");
    assert.equal(breakers.state({ plugin: "never", method: "called" }), "closed");
    assert.deepEqual(breakerStatesOf(breakers, "demo-payments"), { getPayments: "open" });
    assert.deepEqual(breakerStatesOf(breakers, "unknown"), {});
    assert.equal(breakers.list().length, 2);
    const error = await breakers.fire(payments, async () => "not run").catch((e: unknown) => e);
    assert.ok(isBreakerOpenError(error));
    assert.deepEqual(error.key, payments);
    const text = await metrics.metrics();
    assert.match(text, /kefu_breaker_state\{plugin="demo-payments",method="getPayments",origin=""\} 2/);
    assert.match(text, /kefu_breaker_state\{plugin="demo-orders",method="getOrder",origin=""\} 0/);
  } finally {
    breakers.close();
  }
});

test("names containing dots do not collide: a.b's c is not a's b.c", async () => {
  const breakers = createPluginBreakers({ settings });
  try {
    for (let i = 0; i < 4; i += 1) await assert.rejects(breakers.fire({ plugin: "a.b", method: "c" }, fail));
    assert.equal(breakers.state({ plugin: "a.b", method: "c" }), "open");
    assert.equal(breakers.state({ plugin: "a", method: "b.c" }), "closed");
    assert.equal(await breakers.fire({ plugin: "a", method: "b.c" }, async () => "through"), "through");
    assert.deepEqual(breakerStatesOf(breakers, "a"), { "b.c": "closed" });
    assert.deepEqual(breakerStatesOf(breakers, "a.b"), { c: "open" });
  } finally {
    breakers.close();
  }
});
