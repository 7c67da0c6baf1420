import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import type { OrderContext } from "../../src/connectors/order-context.ts";
import type { HubConfig } from "../../src/config/config.ts";
import { startDemoBusinessSystem } from "../../plugins/demo-business-system/server.ts";
import { DEMO_PLUGINS } from "../helpers/test-hub-with-demo.ts";
import { deleteKeys, eventually, startTestHub, type TestHub } from "../helpers/test-hub.ts";

async function context(hub: TestHub, orderId: string): Promise<OrderContext> {
  const res = await hub.request(`/v1/orders/${orderId}/context`, { scope: "read" });
  assert.equal(res.status, 200);
  return (await res.json()) as OrderContext;
}

test("two hub instances with the Redis tier share fetched parts and invalidations", async () => {
  const demo = await startDemoBusinessSystem({ port: 0 });
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const plugins: HubConfig["plugins"] = Object.fromEntries(DEMO_PLUGINS.map((name) => [name, { config: { baseUrl: demo.url } }]));
  plugins["demo-crm"] = { config: { baseUrl: demo.url, cacheTtlSeconds: 0 } };
  const overrides: Partial<HubConfig> = { pluginWatch: false, plugins, contextRedisCache: true };
  const hubs: TestHub[] = [];
  try {
    hubs.push(await startTestHub(overrides, {}, { prefix, keepKeys: true }));
    hubs.push(await startTestHub(overrides, {}, { prefix, keepKeys: true }));
    const [a, b] = hubs as [TestHub, TestHub];
    const orderId = demo.orderIds()[11]!;
    const fetched = await context(a, orderId);
    assert.ok(Object.values(fetched.sources).every((s) => s.cache === "miss"));
    const fromRedis = await context(b, orderId);
    assert.ok(Object.values(fromRedis.sources).every((s) => s.cache === "hit"), JSON.stringify(fromRedis.sources));
    assert.deepEqual(fromRedis.order, fetched.order);
    assert.deepEqual(demo.counts(), { orders: 1, payments: 1, logistics: 1, crm: 1 }, "B called no plugin");

    assert.equal((await a.request(`/v1/orders/${orderId}/context/cache`, { method: "DELETE" })).status, 204);
    // B drops its own in-process copy on A's notice, and fetches again.
    await eventually(async () => (await context(b, orderId)).sources.order?.cache === "miss", 2000, "B to drop its copy");
    assert.equal(demo.counts().orders, 2);
  } finally {
    for (const hub of hubs) await hub.close();
    await demo.close();
    await deleteKeys(prefix);
  }
});
