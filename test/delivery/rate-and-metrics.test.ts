import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { eventually, type TestHub } from "../helpers/test-hub.ts";
import { postEvent, startDeliveryHub, subscribe, ticketCreated } from "./fixtures.ts";
import { startReceiver, type Receiver } from "./receiver.ts";

let hub: TestHub;
let receiver: Receiver;
before(async () => {
  hub = await startDeliveryHub();
  receiver = await startReceiver();
});
after(async () => {
  await hub.close();
  await receiver.close();
});

test("rateLimitPerSecond spreads deliveries over seconds without using attempts", async () => {
  const sub = await subscribe(hub, `${receiver.url}/limited`, { events: ["ticket.closed"], rateLimitPerSecond: 3 });
  const events: Record<string, unknown>[] = Array.from({ length: 7 }, (_, i) => ({ ...ticketCreated(), type: "ticket.closed", data: { ticketId: `T-${i}` } }));
  for (const event of events) await postEvent(hub, event);
  await eventually(() => receiver.received.filter((r) => r.path === "/limited").length === events.length, 6000, "all limited deliveries");
  // Bucketed by the second the hub signed each request (webhook-timestamp), right after its rate
  // check: the receipt time would move a request sent at x.999 s into the next second's count.
  const bySecond = new Map<number, number>();
  for (const r of receiver.received.filter((r) => r.path === "/limited")) {
    const second = Number(r.headers["webhook-timestamp"]);
    bySecond.set(second, (bySecond.get(second) ?? 0) + 1);
  }
  assert.ok([...bySecond.values()].every((n) => n <= 3), `per second: ${JSON.stringify([...bySecond.values()])}`);
  assert.ok(bySecond.size >= 3);
  const response = await hub.request(`/v1/deliveries/${String(events[6]?.["id"])}.${sub.id}`);
  assert.equal(((await response.json()) as { attempts: number }).attempts, 1);
});

test("metrics count ingested events by type, deliveries by outcome, and accept → delivery latency", async () => {
  await subscribe(hub, `${receiver.url}/metrics`, { events: ["order.updated"] });
  const event: Record<string, unknown> = { ...ticketCreated(), type: "order.updated", data: { orderId: "SO-1", status: "shipped" } };
  await postEvent(hub, event);
  await eventually(() => receiver.received.some((r) => r.headers["webhook-id"] === event["id"]), 5000, "delivery");
  const text = await eventually(async () => {
    const body = await (await hub.request("/metrics", { scope: "none" })).text();
    return /kefu_deliveries_total\{outcome="delivered",priority="[a-z]+"\} [1-9]/.test(body) ? body : undefined;
  }, 3000, "delivered count");
  assert.match(text, /kefu_events_ingested_total\{type="order.updated"\} 1/);
  assert.match(text, /kefu_delivery_latency_seconds_count\{priority="[a-z]+"\} [1-9]/);
  assert.match(text, /kefu_deliveries_total\{outcome="delayed_rate_limit",priority="[a-z]+"\} [1-9]/);
  assert.match(text, /kefu_queue_jobs\{state="waiting",priority="urgent"\} \d+/);
  assert.match(text, /kefu_breaker_state\{plugin="",method="",origin="http:\/\/127.0.0.1:\d+"\} 0/);
});
