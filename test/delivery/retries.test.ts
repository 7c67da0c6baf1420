import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import { deliveryKeys } from "../../src/delivery/delivery-keys.ts";
import { expectProblem } from "../helpers/problem.ts";
import { eventually, TEST_REDIS_URL, type TestHub } from "../helpers/test-hub.ts";
import { deliveriesOfEvent, finalDelivery, postEvent, queueDrained, startDeliveryHub, subscribe, ticketCreated } from "./fixtures.ts";
import { startReceiver, verify, type Receiver } from "./receiver.ts";

interface DeliveryJson {
  id: string;
  status: string;
  attempts: number;
  subscriptionId: string;
  lastStatusCode?: number;
  nextAttemptAt?: string;
  attemptLog?: { statusCode?: number; responseBody?: string; durationMs: number; at: string; error?: string }[];
}

let hub: TestHub;
const receivers: Receiver[] = [];
before(async () => {
  hub = await startDeliveryHub();
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

async function delivery(id: string): Promise<DeliveryJson> {
  const response = await hub.request(`/v1/deliveries/${id}`);
  assert.equal(response.status, 200);
  return (await response.json()) as DeliveryJson;
}

test("a receiver that fails twice then succeeds gets exactly 3 attempts, each logged", async () => {
  const r = await receiver((_req, index) => (index < 2 ? { status: 500, body: `boom ${index}` } : { status: 200, body: "ok" }));
  const sub = await subscribe(hub, r.url);
  const event = ticketCreated();
  await postEvent(hub, event);
  const id = `${String(event["id"])}.${sub.id}`;
  assert.equal((await finalDelivery(hub, id)).status, "delivered");
  // Nothing more may arrive: no job is left that could send (a retry after the success would be one).
  await queueDrained(hub);
  const done = await delivery(id);
  assert.equal(r.received.length, 3);
  assert.equal(done.attempts, 3);
  assert.deepEqual(done.attemptLog?.map((a) => a.statusCode), [500, 500, 200]);
  assert.equal(done.attemptLog?.[0]?.responseBody, "boom 0");
  assert.equal(done.attemptLog?.[2]?.responseBody, "ok", "the successful attempt, kept in the record, comes last");
  // The webhook-id is the event id on every attempt, so receivers can dedupe.
  assert.deepEqual(new Set(r.received.map((req) => req.headers["webhook-id"])), new Set([event["id"]]));
  for (const request of r.received) verify(sub.secret, request);
});

test("one that always fails ends as a dead letter; replay delivers once it recovers", async () => {
  let healthy = false;
  const r = await receiver(() => (healthy ? { status: 204 } : { status: 503 }));
  const sub = await subscribe(hub, r.url);
  const event = ticketCreated();
  await postEvent(hub, event);
  const id = `${String(event["id"])}.${sub.id}`;
  const dead = await eventually(async () => {
    const d = await delivery(id);
    return d.status === "failed" ? d : undefined;
  }, 5000, "dead letter");
  assert.equal(dead.attempts, 4, "first try plus one per schedule item (3)");

  const listed = await hub.request(`/v1/deliveries?status=failed&subscription=${sub.id}`);
  assert.equal(listed.status, 200);
  const page = (await listed.json()) as { items: DeliveryJson[] };
  assert.deepEqual(page.items.map((d) => d.id), [id]);

  healthy = true;
  const replay = await hub.request(`/v1/deliveries/${id}/replay`, { method: "POST" });
  assert.equal(replay.status, 202);
  await eventually(async () => (await delivery(id)).status === "delivered", 5000, "replayed delivery");
  await queueDrained(hub);
  assert.equal(r.received.filter((req) => req.headers["webhook-id"] === event["id"]).length, 5);
  const after = await hub.request(`/v1/deliveries?status=failed&subscription=${sub.id}`);
  assert.deepEqual(((await after.json()) as { items: unknown[] }).items, []);

  const again = await hub.request(`/v1/deliveries/${id}/replay`, { method: "POST" });
  assert.equal(again.status, 409);
});

test("bulk replay of a subscription's dead letters since a time", async () => {
  let healthy = false;
  const r = await receiver(() => ({ status: healthy ? 200 : 500 }));
  const sub = await subscribe(hub, r.url);
  const since = new Date(Date.now() - 1000).toISOString();
  const events = [ticketCreated(), ticketCreated(), ticketCreated()];
  for (const event of events) await postEvent(hub, event);
  await eventually(async () => {
    const response = await hub.request(`/v1/deliveries?status=failed&subscription=${sub.id}&limit=2`);
    const page = (await response.json()) as { items: unknown[]; nextCursor?: string };
    if (page.items.length < 2 || !page.nextCursor) return undefined;
    const next = await hub.request(`/v1/deliveries?status=failed&subscription=${sub.id}&limit=2&cursor=${page.nextCursor}`);
    return ((await next.json()) as { items: unknown[] }).items.length === 1;
  }, 5000, "three dead letters, two pages");
  healthy = true;
  const replay = await hub.request(`/v1/subscriptions/${sub.id}/replay`, { method: "POST", json: { since } });
  assert.equal(replay.status, 202);
  assert.deepEqual(await replay.json(), { replayed: 3 });
  await eventually(() => r.received.filter((req) => req.headers["webhook-id"] && true).length === 4 * 3 + 3, 5000, "replays received");
});

test("a dead letter of a disabled subscription is not replayed: 409 until it is enabled again", async () => {
  const r = await receiver(() => ({ status: 500 }));
  const sub = await subscribe(hub, r.url);
  const event = ticketCreated();
  await postEvent(hub, event);
  const id = `${String(event["id"])}.${sub.id}`;
  await eventually(async () => (await delivery(id)).status === "failed", 5000, "dead letter");
  const disabled = await hub.request(`/v1/subscriptions/${sub.id}`, { method: "PATCH", json: { enabled: false } });
  assert.equal(disabled.status, 200);

  const one = await expectProblem(await hub.request(`/v1/deliveries/${id}/replay`, { method: "POST" }), 409, "conflict");
  assert.match(one.detail, /is disabled; enable it first/);
  const since = new Date(Date.now() - 60_000).toISOString();
  await expectProblem(await hub.request(`/v1/subscriptions/${sub.id}/replay`, { method: "POST", json: { since } }), 409, "conflict");
  assert.equal((await delivery(id)).status, "failed", "the dead letter stays as it was");

  assert.equal((await hub.request(`/v1/subscriptions/${sub.id}`, { method: "PATCH", json: { enabled: true } })).status, 200);
  assert.equal((await hub.request(`/v1/deliveries/${id}/replay`, { method: "POST" })).status, 202);
  await eventually(async () => (await delivery(id)).status === "failed", 5000, "the replay failing again");
  assert.equal((await hub.request(`/v1/subscriptions/${sub.id}`, { method: "DELETE" })).status, 204);
});

test("a dead letter of a deleted subscription is not replayed: 409", async () => {
  const r = await receiver(() => ({ status: 500 }));
  const sub = await subscribe(hub, r.url);
  const event = ticketCreated();
  await postEvent(hub, event);
  const id = `${String(event["id"])}.${sub.id}`;
  await eventually(async () => (await delivery(id)).status === "failed", 5000, "dead letter");
  assert.equal((await hub.request(`/v1/subscriptions/${sub.id}`, { method: "DELETE" })).status, 204);
  const problem = await expectProblem(await hub.request(`/v1/deliveries/${id}/replay`, { method: "POST" }), 409, "conflict");
  assert.match(problem.detail, /was deleted/);
});

test("410 Gone disables the subscription and emits kefu.subscription.disabled to its watchers", async () => {
  const gone = await receiver(() => ({ status: 410 }));
  const watcher = await receiver(() => ({ status: 204 }));
  const sub = await subscribe(hub, gone.url, { events: ["ticket.*"] });
  const watch = await subscribe(hub, watcher.url, { events: ["kefu.subscription.disabled"] });
  const event = ticketCreated();
  await postEvent(hub, event);
  const notice = await eventually(() => watcher.received[0], 5000, "disabled notice");
  const body = verify(watch.secret, notice);
  assert.equal(body.type, "kefu.subscription.disabled");
  assert.equal(body.data["subscriptionId"], sub.id);
  assert.equal(body.data["reason"], "gone");
  assert.equal((await finalDelivery(hub, `${String(event["id"])}.${sub.id}`)).status, "failed");
  await queueDrained(hub);
  assert.equal(gone.received.length, 1, "410 is not retried");
  const state = await hub.request(`/v1/subscriptions/${sub.id}`);
  assert.equal(state.status, 200);
  const json = (await state.json()) as { enabled: boolean; disabledReason: string };
  assert.equal(json.enabled, false);
  assert.equal(json.disabledReason, "gone");

});

test("a disabled subscription gets no new deliveries; re-enabled, it does", async () => {
  const gone = await receiver(() => ({ status: 410 }));
  const other = await receiver(() => ({ status: 204 }));
  const sub = await subscribe(hub, gone.url, { events: ["ticket.*"] });
  // The barrier: an always-enabled subscription to the same events, on another receiver.
  const barrier = await subscribe(hub, other.url, { events: ["ticket.*"] });
  const watch = await subscribe(hub, other.url + "/watch", { events: ["kefu.subscription.disabled"] });
  const first = ticketCreated();
  await postEvent(hub, first);
  await eventually(() => other.received.find((r) => r.path === "/watch"), 5000, "the disabled notice");
  assert.equal(verify(watch.secret, other.received.find((r) => r.path === "/watch")!).data["subscriptionId"], sub.id);
  // The disable is stored, and announced to every process's subscription cache, before the notice
  // is emitted (failure-tracker.ts), so the event below is fanned out with the subscription disabled.

  const whileDisabled = ticketCreated();
  await postEvent(hub, whileDisabled);
  const whileDisabledId = String(whileDisabled["id"]);
  assert.equal((await finalDelivery(hub, `${whileDisabledId}.${barrier.id}`)).status, "delivered");
  // The barrier's delivery is listed, so the event's whole fan-out is: the disabled one is not in it.
  // (The earlier tests' subscriptions to "*" are in it too.)
  const fannedOut = (await deliveriesOfEvent(hub, whileDisabledId)).map((d) => d.subscriptionId);
  assert.ok(fannedOut.includes(barrier.id));
  assert.ok(!fannedOut.includes(sub.id), "no delivery for the disabled subscription");
  await queueDrained(hub);
  assert.deepEqual(
    gone.received.map((r) => r.headers["webhook-id"]),
    [first["id"]],
    "only the event from before the disable was sent",
  );

  const patch = await hub.request(`/v1/subscriptions/${sub.id}`, { method: "PATCH", json: { enabled: true } });
  assert.equal(patch.status, 200);
  const patched = (await patch.json()) as { enabled: boolean; disabledReason?: string };
  assert.deepEqual([patched.enabled, patched.disabledReason], [true, undefined]);
  // Re-enabled (announced before the PATCH answers): the next event reaches it again.
  const afterEnabled = ticketCreated();
  await postEvent(hub, afterEnabled);
  await eventually(() => gone.received.some((r) => r.headers["webhook-id"] === afterEnabled["id"]), 5000, "a delivery after re-enabling");
  assert.equal((await finalDelivery(hub, `${String(afterEnabled["id"])}.${sub.id}`)).status, "failed", "410 again, a dead letter again");
});

test("a redirect is not followed and counts as a failure", async () => {
  const target = await receiver(() => ({ status: 204 }));
  const redirecting = await receiver(() => ({ status: 307, headers: { location: `${target.url}/elsewhere` } }));
  const sub = await subscribe(hub, redirecting.url);
  const event = ticketCreated();
  await postEvent(hub, event);
  const id = `${String(event["id"])}.${sub.id}`;
  const dead = await eventually(async () => {
    const d = await delivery(id);
    return d.status === "failed" ? d : undefined;
  }, 5000, "dead letter after redirects");
  assert.equal(dead.lastStatusCode, 307);
  assert.match(dead.attemptLog?.[0]?.error ?? "", /redirect .* not followed/);
  assert.equal(target.received.length, 0);
});

test("429 with Retry-After waits that long before the next attempt", async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const r = await receiver(async (_req, index) => {
    if (index === 0) return { status: 429, headers: { "retry-after": "1" } };
    await held;
    return { status: 204 };
  });
  const sub = await subscribe(hub, r.url);
  const event = ticketCreated();
  await postEvent(hub, event);
  const id = `${String(event["id"])}.${sub.id}`;
  // The second attempt is held at the receiver, so the record still shows the plan made after the 429.
  await eventually(() => r.received.length === 2, 5000, "second attempt");
  const planned = await delivery(id);
  release();
  assert.equal(planned.status, "retrying");
  const answeredAt = Date.parse(planned.attemptLog?.[0]?.at ?? "");
  const plannedAt = Date.parse(planned.nextAttemptAt ?? "");
  assert.ok(plannedAt - answeredAt >= 1000, `next attempt planned ${plannedAt - answeredAt} ms after the 429, expected ≥ 1 s (the schedule says 50 ms)`);
  // One clock, and a lower bound only: a slow machine makes the attempt later, never earlier.
  const second = r.received[1];
  assert.ok(second && second.at >= plannedAt, `the second attempt came ${plannedAt - (second?.at ?? 0)} ms before its time`);
  assert.equal((await finalDelivery(hub, id)).status, "delivered");
});

test("a first attempt that succeeds is logged in the record itself, without an attempt-log list", async () => {
  const r = await receiver(() => ({ status: 200, body: "fine" }));
  const sub = await subscribe(hub, r.url);
  const event = ticketCreated();
  await postEvent(hub, event);
  const id = `${String(event["id"])}.${sub.id}`;
  assert.equal((await finalDelivery(hub, id)).status, "delivered");
  const done = await delivery(id);
  assert.equal(done.attempts, 1);
  assert.deepEqual(done.attemptLog?.map((a) => [a.statusCode, a.responseBody]), [[200, "fine"]]);
  const redis = new Redis(TEST_REDIS_URL);
  try {
    assert.equal(await redis.exists(deliveryKeys(hub.prefix).attempts(id)), 0, "no list was written for it");
  } finally {
    redis.disconnect();
  }
});
