import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { expectProblem } from "../helpers/problem.ts";
import { startTestHubWithDemo, type TestHubWithDemo } from "../helpers/test-hub-with-demo.ts";

let hub: TestHubWithDemo;
before(async () => {
  hub = await startTestHubWithDemo();
});
after(() => hub.close());

test("GET /v1/plugins lists the five demo plugins ready, with an empty breakers map", async () => {
  const response = await hub.request("/v1/plugins");
  assert.equal(response.status, 200);
  const { items } = (await response.json()) as { items: { name: string; kind: string; state: string; breakers: object }[] };
  const demo = items.filter((item) => item.name.startsWith("demo-"));
  assert.deepEqual(demo.map((item) => [item.name, item.kind, item.state]), [
    ["demo-carrier", "transform", "ready"],
    ["demo-crm", "crm", "ready"],
    ["demo-logistics", "logistics", "ready"],
    ["demo-orders", "orders", "ready"],
    ["demo-payments", "payments", "ready"],
  ]);
  assert.deepEqual(demo[1]?.breakers, {});
});

test("the PluginCaller answers validated records from the demo business system, and null for unknown ids", async () => {
  const orderId = hub.demo.orderIds()[0] ?? "";
  hub.demo.resetCounts();
  const order = await hub.hub.plugins.call<{ id: string; currency: string }>("orders", "getOrder", { orderId });
  assert.equal(order?.id, orderId);
  assert.equal(order?.currency, "CNY");
  const payments = await hub.hub.plugins.call<{ orderId: string }>("payments", "getPayments", { orderId });
  assert.equal(payments?.orderId, orderId);
  const shipments = await hub.hub.plugins.call<{ shipments: unknown[] }>("logistics", "track", { orderId });
  assert.ok(Array.isArray(shipments?.shipments));
  assert.equal(await hub.hub.plugins.call("orders", "getOrder", { orderId: "SO-NOPE" }), null);
  assert.deepEqual(hub.demo.counts(), { orders: 2, payments: 1, logistics: 1, crm: 0 });
  assert.equal(hub.hub.plugins.pluginFor("crm"), "demo-crm");
});

test("demo-crm caches customers in Redis under the plugin's own namespace", async () => {
  const customerId = hub.demo.customerIds()[3] ?? "";
  hub.demo.resetCounts();
  const first = await hub.hub.plugins.call("crm", "getCustomer", { customerId });
  const second = await hub.hub.plugins.call("crm", "getCustomer", { customerId });
  assert.deepEqual(first, second);
  assert.equal(hub.demo.counts().crm, 1);
  const { Redis } = await import("ioredis");
  const redis = new Redis(hub.config.redisUrl ?? "");
  try {
    assert.ok(await redis.exists(`${hub.prefix}:plugin-cache:demo-crm:customer:${customerId}`));
  } finally {
    await redis.quit();
  }
});

test("POST /v1/plugins/{name}/invoke answers the result, null, and problems for a bad request or an unknown plugin", async () => {
  const orderId = hub.demo.orderIds()[1] ?? "";
  const ok = await hub.request("/v1/plugins/demo-orders/invoke", { method: "POST", json: { method: "getOrder", input: { orderId } } });
  assert.equal(ok.status, 200);
  const body = (await ok.json()) as { plugin: string; result: { id: string } };
  assert.equal(body.result.id, orderId);
  const missing = await hub.request("/v1/plugins/demo-orders/invoke", { method: "POST", json: { method: "getOrder", input: { orderId: "SO-0" } } });
  assert.equal(missing.status, 200);
  assert.equal(((await missing.json()) as { result: unknown }).result, null);
  await expectProblem(await hub.request("/v1/plugins/demo-orders/invoke", { method: "POST", json: { method: "getCustomer", input: {} } }), 400, "validation_failed");
  await expectProblem(await hub.request("/v1/plugins/demo-orders/invoke", { method: "POST", json: { input: {} } }), 400, "validation_failed");
  await expectProblem(await hub.request("/v1/plugins/nope/invoke", { method: "POST", json: { method: "getOrder", input: {} } }), 404, "not_found");
  await expectProblem(await hub.request("/v1/plugins/nope"), 404, "not_found");
  await expectProblem(await hub.request("/v1/plugins", { scope: "read" }), 403, "forbidden");
  await expectProblem(await hub.request("/v1/plugins", { scope: "none" }), 401, "unauthorized");
});

test("a failing upstream becomes plugin_error naming plugin and method; calls and errors are counted", async () => {
  hub.demo.setKnobs("payments", { errorRate: 1 });
  try {
    const orderId = hub.demo.orderIds()[2] ?? "";
    const problem = await expectProblem(await hub.request("/v1/plugins/demo-payments/invoke", { method: "POST", json: { method: "getPayments", input: { orderId } } }), 502, "plugin_error");
    assert.match(problem.detail, /plugin demo-payments getPayments\(\) failed: Error: demo business system answered 503/);
    assert.equal(problem["plugin"], "demo-payments");
  } finally {
    hub.demo.setKnobs("payments", { errorRate: 0 });
  }
  const info = (await (await hub.request("/v1/plugins/demo-payments")).json()) as { calls: number; errors: number; lastError: { message: string }; p50Ms: number };
  assert.ok(info.calls >= 1 && info.errors >= 1);
  assert.match(info.lastError.message, /503/);
  const metrics = await (await hub.request("/metrics", { scope: "none" })).text();
  assert.match(metrics, /kefu_plugin_call_duration_seconds_count\{plugin="demo-payments",method="getPayments",outcome="error"\} 1/);
});

test("npm start's demo launcher starts the demo business system and points unconfigured demo plugins at it", async () => {
  const { startDemoIfEnabled } = await import("../../src/plugins/demo-launch.ts");
  const { loadConfig } = await import("../../src/config/load-config.ts");
  const { hubPaths } = await import("../../src/paths.ts");
  const { pino } = await import("pino");
  const config = loadConfig({ env: {}, schemas: hub.schemas, overrides: { demoBusinessSystemPort: 0, plugins: { "demo-crm": { config: { baseUrl: "http://crm.internal" } } } } });
  const demo = await startDemoIfEnabled(config, pino({ level: "silent" }), hubPaths().root);
  try {
    assert.ok(demo);
    assert.equal(config.plugins["demo-orders"]?.config?.["baseUrl"], demo.url);
    assert.equal(config.plugins["demo-crm"]?.config?.["baseUrl"], "http://crm.internal");
    assert.equal((await fetch(`${demo.url}/orders/SO-100001`)).status, 200);
    assert.equal((await fetch(`${demo.url}/customers/C-9999`)).status, 404);
  } finally {
    await demo?.close();
  }
  assert.equal(await startDemoIfEnabled({ ...config, demoBusinessSystem: false }, pino({ level: "silent" }), hubPaths().root), undefined);
});
