import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { eventually, type TestHub } from "../helpers/test-hub.ts";
import { postEvent, startDeliveryHub, subscribe, ticketCreated } from "./fixtures.ts";
import { startReceiver, verify, type Receiver } from "./receiver.ts";

let hub: TestHub;
const receivers: Receiver[] = [];
before(async () => {
  hub = await startDeliveryHub({
    deliveryBreakerVolumeThreshold: 3,
    deliveryBreakerErrorPercent: 50,
    deliveryBreakerResetMs: 1500,
    deliveryRetrySchedule: "50ms,50ms,50ms,50ms,50ms,50ms,50ms,50ms",
    deliveryTimeoutMs: 3000,
  });
});
after(async () => {
  await hub.close();
  await Promise.all(receivers.map((r) => r.close()));
});

async function receiver(answer: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const started = await startReceiver(answer);
  receivers.push(started);
  return started;
}

test("an open breaker holds an endpoint's deliveries without using attempts, and one dead endpoint does not slow the others", async () => {
  let healthy = false;
  const flaky = await receiver(() => (healthy ? { status: 204 } : { status: 503 }));
  const hanging = await receiver(() => ({ status: 204, delayMs: 60_000 }));
  const fine = await receiver(() => ({ status: 204 }));
  const flakySub = await subscribe(hub, flaky.url, { events: ["ticket.created"] });
  await subscribe(hub, hanging.url, { events: ["ticket.created"] });
  await subscribe(hub, fine.url, { events: ["ticket.created"] });

  const events = Array.from({ length: 10 }, () => ticketCreated());
  const started = Date.now();
  for (const event of events) await postEvent(hub, event);
  await eventually(() => fine.received.length === events.length, 2000, "the healthy endpoint's deliveries");
  assert.ok(Date.now() - started < 2000, "the healthy endpoint waited for the others");

  const state = await eventually(async () => {
    const response = await hub.request(`/v1/subscriptions/${flakySub.id}`);
    const json = (await response.json()) as { breaker: string };
    return json.breaker === "open" ? json : undefined;
  }, 3000, "the breaker to open");
  assert.equal(state.breaker, "open");
  const metrics = await (await hub.request("/metrics", { scope: "none" })).text();
  assert.match(metrics, new RegExp(`kefu_breaker_state\\{plugin="",method="",origin="${flaky.url}"\\} 2`));
  const attemptsWhileOpen = flaky.received.length;
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(flaky.received.length, attemptsWhileOpen, "no attempts while the breaker is open");

  healthy = true;
  const deliveries = await eventually(async () => {
    const states = await Promise.all(
      events.map(async (e) => {
        const response = await hub.request(`/v1/deliveries/${String(e["id"])}.${flakySub.id}`);
        assert.equal(response.status, 200);
        return (await response.json()) as { status: string; attempts: number };
      }),
    );
    return states.every((d) => d.status === "delivered") ? states : undefined;
  }, 8000, "every held delivery delivered after the reset");
  const last = flaky.received.at(-1);
  if (last) verify(flakySub.secret, last);
  const delivery = deliveries[0] as { attempts: number };
  assert.ok(delivery.attempts <= 4, `${delivery.attempts} attempts used`);
});
