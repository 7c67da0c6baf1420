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
    // Long enough that the retries are all held (≈ 0.5 s after the open) well before the probe.
    deliveryBreakerResetMs: 3000,
    // A first retry comes ≥ 400 ms (500 ms − 20 % jitter) after its failure: long after the
    // breaker has seen the failures of a batch answered at once.
    deliveryRetrySchedule: "500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms",
    // Far beyond the test: a hanging request ends only when the hub closes, never by a timeout
    // that a slow machine could reach before the healthy endpoint's deliveries are done.
    deliveryTimeoutMs: 60_000,
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

async function counter(outcome: string): Promise<number> {
  const metrics = await (await hub.request("/metrics", { scope: "none" })).text();
  // Summed over the priority label.
  const series = metrics.matchAll(new RegExp(`^kefu_deliveries_total\\{outcome="${outcome}",priority="[a-z]+"\\} (\\d+)$`, "gm"));
  return [...series].reduce((sum, [, value]) => sum + Number(value), 0);
}

test("an open breaker holds an endpoint's deliveries without using attempts, and one dead endpoint does not slow the others", async () => {
  let healthy = false;
  const events = Array.from({ length: 10 }, () => ticketCreated());
  // The first attempts are held until all of them have arrived, then answered at once: each was
  // sent while the breaker was closed, and the breaker opens on their answers, before any retry.
  let answerFirstAttempts!: () => void;
  const firstAttempts = new Promise<void>((resolve) => (answerFirstAttempts = resolve));
  const flaky = await receiver(async (_request, index) => {
    if (index < events.length) {
      if (index === events.length - 1) answerFirstAttempts();
      await firstAttempts;
    }
    return healthy ? { status: 204 } : { status: 503 };
  });
  const hanging = await receiver(() => ({ status: 204, delayMs: 120_000 }));
  const fine = await receiver(() => ({ status: 204 }));
  const flakySub = await subscribe(hub, flaky.url, { events: ["ticket.created"] });
  await subscribe(hub, hanging.url, { events: ["ticket.created"] });
  await subscribe(hub, fine.url, { events: ["ticket.created"] });

  for (const event of events) await postEvent(hub, event);
  await eventually(() => fine.received.length === events.length, 10_000, "the healthy endpoint's deliveries");
  // Not a wall-clock bound: every delivery to the hanging endpoint is still unanswered, so the
  // healthy one got all of its deliveries without waiting for any of them to end.
  assert.ok(hanging.received.length > 0);
  assert.equal(hanging.pending(), hanging.received.length, "a request to the hanging endpoint ended before the healthy one was served");

  const state = await eventually(async () => {
    const response = await hub.request(`/v1/subscriptions/${flakySub.id}`);
    const json = (await response.json()) as { breaker: string };
    return json.breaker === "open" ? json : undefined;
  }, 3000, "the breaker to open");
  assert.equal(state.breaker, "open");
  const metrics = await (await hub.request("/metrics", { scope: "none" })).text();
  assert.match(metrics, new RegExp(`kefu_breaker_state\\{plugin="",method="",origin="${flaky.url}"\\} 2`));
  // The barrier: every one of the endpoint's deliveries has come back for its retry, found the
  // breaker open and been postponed to the reset. Only the first attempts may have been sent.
  await eventually(async () => (await counter("delayed_breaker")) >= events.length, 3000, "every retry to be held by the breaker");
  assert.equal(flaky.received.length, events.length, "no attempts while the breaker is open");

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
  }, 10_000, "every held delivery delivered after the reset");
  const last = flaky.received.at(-1);
  if (last) verify(flakySub.secret, last);
  const delivery = deliveries[0] as { attempts: number };
  assert.ok(delivery.attempts <= 4, `${delivery.attempts} attempts used`);
});
