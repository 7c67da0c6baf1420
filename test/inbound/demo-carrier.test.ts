import assert from "node:assert/strict";
import { createHmac, randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { DEMO_CARRIER_SECRET } from "../../src/inbound/demo-source.ts";
import { startTestHubWithDemo, type TestHubWithDemo } from "../helpers/test-hub-with-demo.ts";
import { eventually } from "../helpers/test-hub.ts";

let hub: TestHubWithDemo;
before(async () => {
  hub = await startTestHubWithDemo();
});
after(() => hub.close());

interface Context {
  sources: Record<string, { cache: string; ageMs: number }>;
}

const context = async (): Promise<Context> => {
  const response = await hub.request("/v1/orders/SO-100003/context", { scope: "read" });
  assert.equal(response.status, 200);
  return (await response.json()) as Context;
};

test("npm start's demo source: a signed carrier push becomes order.updated and the order's context is fetched again", async () => {
  const hint = await hub.hub.startDemoInbound(hub.url);
  assert.match(hint ?? "", /curl -i .*\/v1\/inbound\/demo-carrier/);
  assert.equal(await hub.hub.startDemoInbound(hub.url), hint, "a second start leaves the existing source as it is");
  await context();
  await eventually(async () => (await context()).sources["shipments"]?.cache === "hit", 5000, "the shipments part to be cached");

  const body = JSON.stringify({ pushId: `P-${randomUUID()}`, carrier: "SF", trackingNo: "SF1234567890", orderId: "SO-100003", status: "exception", time: "2026-12-02T09:30:00+08:00", place: "杭州", description: "地址不详" });
  const signature = `sha256=${createHmac("sha256", DEMO_CARRIER_SECRET).update(body).digest("hex")}`;
  const response = await fetch(`${hub.url}/v1/inbound/demo-carrier`, { method: "POST", headers: { "content-type": "application/json", "x-carrier-signature": signature }, body });
  assert.equal(response.status, 202);
  const { id } = (await response.json()) as { id: string };
  const event = await eventually(async () => {
    const found = await hub.request(`/v1/events/${id}.0`, { scope: "read" });
    return found.status === 200 ? ((await found.json()) as { event: { type: string; priority: string; data: { orderId: string } } }).event : undefined;
  }, 5000, "the order.updated event");
  assert.deepEqual([event.type, event.priority, event.data.orderId], ["order.updated", "high", "SO-100003"]);
  const after = await context();
  assert.notEqual(after.sources["shipments"]?.cache, "hit", "the cached shipments were dropped by order.updated");
});

test("the Swagger UI example of POST /v1/inbound/{source} is signed with the demo secret, as Swagger UI sends it", async () => {
  const document = (await (await fetch(`${hub.url}/openapi.json`)).json()) as { paths: Record<string, { post: { parameters: { name: string; example: string }[]; requestBody: { content: { "application/json": { example: unknown } } } } }> };
  const operation = document.paths["/v1/inbound/{source}"]?.post;
  // Swagger UI sends an object example pretty-printed with two spaces (test/e2e/swagger-ui.test.ts tries it).
  const body = JSON.stringify(operation?.requestBody.content["application/json"].example, null, 2);
  const header = operation?.parameters.find((parameter) => parameter.name === "x-carrier-signature")?.example;
  assert.equal(header, `sha256=${createHmac("sha256", DEMO_CARRIER_SECRET).update(body).digest("hex")}`);
  const response = await fetch(`${hub.url}/v1/inbound/demo-carrier`, { method: "POST", headers: { "content-type": "application/json", "x-carrier-signature": header }, body });
  assert.equal(response.status, 202, await response.clone().text());
});
