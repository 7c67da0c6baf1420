import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { createBreakerStateMetric, type BreakerStateSample } from "../../src/observability/breaker-state-metric.ts";

test("kefu_breaker_state reads every source when scraped, with the labels a source lacks left empty", async () => {
  const registry = new Registry();
  const metric = createBreakerStateMetric(registry);
  let plugins: BreakerStateSample[] = [{ plugin: "demo-payments", method: "getPayments", state: "open" }];
  const origins: BreakerStateSample[] = [
    { origin: "https://crm.example.com", state: "halfOpen" },
    { origin: "http://127.0.0.1:8080", state: "closed" },
  ];
  metric.addSource(() => plugins);
  metric.addSource(() => origins);

  const text = await registry.metrics();
  assert.equal(text.match(/^# TYPE kefu_breaker_state gauge$/gm)?.length, 1, "one gauge for both kinds of breaker");
  assert.match(text, /^kefu_breaker_state\{plugin="demo-payments",method="getPayments",origin=""\} 2$/m);
  assert.match(text, /^kefu_breaker_state\{plugin="",method="",origin="https:\/\/crm.example.com"\} 1$/m);
  assert.match(text, /^kefu_breaker_state\{plugin="",method="",origin="http:\/\/127.0.0.1:8080"\} 0$/m);

  // A state change shows at the next scrape; a breaker no source lists any more disappears.
  plugins = [{ plugin: "demo-orders", method: "getOrder", state: "closed" }];
  const next = await registry.metrics();
  assert.doesNotMatch(next, /demo-payments/);
  assert.match(next, /^kefu_breaker_state\{plugin="demo-orders",method="getOrder",origin=""\} 0$/m);
  assert.match(next, /origin="https:\/\/crm.example.com"\} 1$/m);
});

test("a registry with no sources exports the gauge without samples", async () => {
  const registry = new Registry();
  createBreakerStateMetric(registry);
  const text = await registry.metrics();
  assert.match(text, /^# TYPE kefu_breaker_state gauge$/m);
  assert.doesNotMatch(text, /^kefu_breaker_state\{/m);
});
