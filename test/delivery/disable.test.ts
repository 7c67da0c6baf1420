import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { eventually, type TestHub } from "../helpers/test-hub.ts";
import { postEvent, startDeliveryHub, subscribe, ticketCreated } from "./fixtures.ts";
import { startReceiver, verify, type Receiver } from "./receiver.ts";

let hub: TestHub;
let failing: Receiver;
let watcher: Receiver;
before(async () => {
  // 0.0002 h = 720 ms of continuous failure.
  hub = await startDeliveryHub({ deliveryDisableAfterHours: 0.0002, deliveryRetrySchedule: "300ms,300ms,300ms,300ms" });
  failing = await startReceiver(() => ({ status: 500 }));
  watcher = await startReceiver(() => ({ status: 204 }));
});
after(async () => {
  await hub.close();
  await failing.close();
  await watcher.close();
});

test("a subscription failing continuously for KEFU_DELIVERY_DISABLE_AFTER_HOURS is disabled and kefu.subscription.disabled is emitted", async () => {
  const sub = await subscribe(hub, failing.url, { events: ["ticket.*"] });
  const watch = await subscribe(hub, watcher.url, { events: ["kefu.*"] });
  await postEvent(hub, ticketCreated());
  const notice = await eventually(() => watcher.received[0], 5000, "the disabled notice");
  const body = verify(watch.secret, notice);
  assert.equal(body.type, "kefu.subscription.disabled");
  assert.equal(body.data["subscriptionId"], sub.id);
  assert.equal(body.data["reason"], "failing");
  assert.equal(typeof body.data["failingSince"], "string");
  const response = await hub.request(`/v1/subscriptions/${sub.id}`);
  const json = (await response.json()) as { enabled: boolean; disabledReason: string };
  assert.deepEqual([json.enabled, json.disabledReason], [false, "failing"]);
});
