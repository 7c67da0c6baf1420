import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createHttpSender } from "../../src/delivery/http-sender.ts";
import { createSsrfGuard } from "../../src/delivery/ssrf-guard.ts";
import { type TestHub } from "../helpers/test-hub.ts";
import { expectProblem } from "../helpers/problem.ts";
import { startDeliveryHub } from "./fixtures.ts";
import { startReceiver, type Receiver } from "./receiver.ts";

let hub: TestHub;
let canary: Receiver;
before(async () => {
  // No allow-list here: loopback is as forbidden as in production.
  hub = await startDeliveryHub({ deliveryAllowCidrs: [] });
  canary = await startReceiver();
});
after(async () => {
  await hub.close();
  await canary.close();
});

function forms(port: string): string[] {
  return [
    `http://127.0.0.1:${port}/`,
    `http://127.1:${port}/`,
    `http://2130706433:${port}/`,
    `http://0x7f000001:${port}/`,
    `http://0x7f.0.0.1:${port}/`,
    `http://0177.0.0.1:${port}/`,
    `http://[::ffff:127.0.0.1]:${port}/`,
    `http://[::ffff:7f00:1]:${port}/`,
    `http://[::127.0.0.1]:${port}/`,
    `http://[::1]:${port}/`,
    `http://localhost:${port}/`,
    `http://0.0.0.0:${port}/`,
    `http://0:${port}/`,
    `http://[::]:${port}/`,
    `http://10.0.0.1:${port}/`,
    `http://172.16.5.4:${port}/`,
    `http://192.168.1.1:${port}/`,
    `http://169.254.169.254:${port}/latest/meta-data/`,
    `http://[::ffff:169.254.169.254]:${port}/`,
    `http://100.64.0.1:${port}/`,
    `http://100.100.100.200:${port}/`,
    `http://224.0.0.1:${port}/`,
    `http://[ff02::1]:${port}/`,
    `http://[fe80::1]:${port}/`,
    `http://[fc00::1]:${port}/`,
    `http://[fd00:ec2::254]:${port}/`,
  ];
}

test("a subscription URL of every loopback, private, link-local, CGNAT, multicast, unspecified or metadata form is refused", async () => {
  const port = new URL(canary.url).port;
  for (const url of forms(port)) {
    const problem = await expectProblem(await hub.request("/v1/subscriptions", { method: "POST", json: { url, events: ["*"] } }), 422, "unprocessable");
    assert.ok(problem.errors?.some((e) => e.pointer === "/url"), url);
    assert.match(problem.detail, /KEFU_DELIVERY_ALLOW_CIDRS=/, `${url}: the refusal names the setting that opens it`);
  }
  assert.equal(canary.connections(), 0);
});

test("a refused local receiver is told which KEFU_DELIVERY_ALLOW_CIDRS value opens it", async () => {
  const port = new URL(canary.url).port;
  const loopback = await expectProblem(await hub.request("/v1/subscriptions", { method: "POST", json: { url: `http://127.0.0.1:${port}/hook`, events: ["*"] } }), 422, "unprocessable");
  assert.match(loopback.detail, /KEFU_DELIVERY_ALLOW_CIDRS=127\.0\.0\.0\/8/);
  const lan = await expectProblem(await hub.request("/v1/subscriptions", { method: "POST", json: { url: "http://192.168.1.20/hook", events: ["*"] } }), 422, "unprocessable");
  assert.match(lan.detail, /KEFU_DELIVERY_ALLOW_CIDRS=192\.168\.1\.20\/32/);
});

test("the check is made on the address actually connected to: a delivery to any such form never reaches the canary", async () => {
  const guard = createSsrfGuard({ allowCidrs: [] });
  const sender = createHttpSender({ guard, timeoutMs: 1000 });
  try {
    const port = new URL(canary.url).port;
    for (const url of forms(port)) {
      const result = await sender.send({ url: new URL(url), headers: { "content-type": "application/json" }, body: "{}" });
      assert.equal(result.ok, false, url);
      assert.equal(result.refused, true, `${url}: ${result.error}`);
      assert.match(result.error ?? "", /KEFU_DELIVERY_ALLOW_CIDRS/, url);
    }
    assert.equal(canary.connections(), 0);
  } finally {
    await sender.close();
  }
});

test("a name that resolves to a refused address is refused at connect time (DNS rebinding)", async () => {
  // The name resolved to a public address when the subscription was saved; now it answers loopback.
  const guard = createSsrfGuard({ allowCidrs: [], resolve: async () => [{ address: "127.0.0.1", family: 4 }] });
  const sender = createHttpSender({ guard, timeoutMs: 1000 });
  try {
    const result = await sender.send({ url: new URL(`http://rebind.example.com:${new URL(canary.url).port}/`), headers: {}, body: "{}" });
    assert.equal(result.refused, true, result.error);
    assert.equal(canary.connections(), 0);
  } finally {
    await sender.close();
  }
});

test("KEFU_DELIVERY_ALLOW_CIDRS opens a range deliberately", async () => {
  const guard = createSsrfGuard({ allowCidrs: ["127.0.0.0/8"] });
  const sender = createHttpSender({ guard, timeoutMs: 1000 });
  try {
    const result = await sender.send({ url: new URL(`http://localhost:${new URL(canary.url).port}/`), headers: {}, body: "{}" });
    assert.equal(result.statusCode, 204, result.error);
    assert.equal(guard.refusal("10.1.2.3") !== undefined, true);
    assert.equal(guard.refusal("::ffff:127.0.0.9"), undefined);
  } finally {
    await sender.close();
  }
});
