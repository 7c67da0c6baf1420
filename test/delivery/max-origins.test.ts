import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { eventually, type TestHub } from "../helpers/test-hub.ts";
import { postEvent, startDeliveryHub, subscribe, ticketCreated } from "./fixtures.ts";
import { startReceiver, type Receiver } from "./receiver.ts";

let hub: TestHub;
const receivers: Receiver[] = [];
before(async () => {
  hub = await startDeliveryHub({ deliveryMaxOrigins: 2 });
});
after(async () => {
  await hub.close();
  await Promise.all(receivers.map((r) => r.close()));
});

test("KEFU_DELIVERY_MAX_ORIGINS bounds the origins a hub keeps pools and breakers for; every delivery still arrives", async () => {
  receivers.push(...(await Promise.all(Array.from({ length: 4 }, () => startReceiver()))));
  const subscriptions = await Promise.all(receivers.map((r) => subscribe(hub, r.url, { events: ["ticket.created"] })));
  const event = ticketCreated();
  await postEvent(hub, event);
  // Four deliveries at once to four origins: pools are evicted while requests may be in flight on them.
  await eventually(async () => {
    const states = await Promise.all(
      subscriptions.map(async (s) => {
        const response = await hub.request(`/v1/deliveries/${String(event["id"])}.${s.id}`);
        return response.status === 200 ? ((await response.json()) as { status: string }).status : "none";
      }),
    );
    return states.every((status) => status === "delivered");
  }, 5000, "every delivery delivered");
  assert.deepEqual(
    receivers.map((r) => r.received.length),
    [1, 1, 1, 1],
  );
  const origins = async (): Promise<string[]> => {
    const text = await (await hub.request("/metrics", { scope: "none" })).text();
    return [...text.matchAll(/^kefu_breaker_state\{plugin="",method="",origin="([^"]+)"\}/gm)].map((m) => m[1] ?? "");
  };
  assert.equal((await origins()).length, 2, "two origins' breakers in kefu_breaker_state");
  await eventually(() => receivers.reduce((sum, r) => sum + r.openConnections(), 0) === 2, 5000, "two origins' connections left open");
});
