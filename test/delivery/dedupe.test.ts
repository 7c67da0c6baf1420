import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { TestHub } from "../helpers/test-hub.ts";
import { finalDelivery, queueDrained, startDeliveryHub, subscribe, ticketCreated } from "./fixtures.ts";
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

test("the same event id posted 100 times concurrently is accepted once and delivered once per subscription", async () => {
  const a = await subscribe(hub, `${receiver.url}/a`, { events: ["ticket.*"] });
  const b = await subscribe(hub, `${receiver.url}/b`, { events: ["*"] });
  const event = ticketCreated();
  const answers = await Promise.all(
    Array.from({ length: 100 }, async () => {
      const response = await hub.request("/v1/events", { method: "POST", scope: "ingest", json: event });
      assert.equal(response.status, 202);
      return (await response.json()) as { id: string; duplicate: boolean };
    }),
  );
  assert.equal(answers.filter((a) => !a.duplicate).length, 1);
  assert.ok(answers.every((a) => a.id === event["id"]));
  for (const sub of [a, b]) assert.equal((await finalDelivery(hub, `${String(event["id"])}.${sub.id}`)).status, "delivered");
  // Any extra delivery (a second job for the event, a retry) has been made once nothing is queued.
  await queueDrained(hub);
  assert.deepEqual(receiver.received.map((r) => r.path).sort(), ["/a", "/b"]);
});

test("an event without id gets one; a batch answers per item and dedupes within itself", async () => {
  const { id: _omit, ...withoutId } = ticketCreated();
  const single = await hub.request("/v1/events", { method: "POST", scope: "ingest", json: withoutId });
  assert.equal(single.status, 202);
  const accepted = (await single.json()) as { id: string; duplicate: boolean };
  assert.match(accepted.id, /^evt_[0-9a-f-]{36}$/);
  assert.equal(accepted.duplicate, false);

  const repeated = ticketCreated();
  const bad = { ...ticketCreated(), data: { subject: "no ticket id", customer: { id: "C" } } };
  const batch = await hub.request("/v1/events/batch", { method: "POST", scope: "ingest", json: { events: [repeated, bad, repeated] } });
  assert.equal(batch.status, 200);
  const { results } = (await batch.json()) as { results: { index: number; status: number; duplicate?: boolean; errors?: { pointer: string }[] }[] };
  assert.equal(results.length, 3);
  assert.equal(results[1]?.status, 400);
  assert.ok(results[1]?.errors?.some((e) => e.pointer === "/data/ticketId"));
  assert.deepEqual([results[0]?.status, results[2]?.status], [202, 202]);
  assert.deepEqual([results[0]?.duplicate, results[2]?.duplicate].sort(), [false, true]);
});

test("an event id reused with a different body is refused 409 idempotency_conflict, in a batch per item; the same body stays a duplicate", async () => {
  const event = ticketCreated();
  const first = await hub.request("/v1/events", { method: "POST", scope: "ingest", json: event });
  assert.equal(first.status, 202);
  const same = await hub.request("/v1/events", { method: "POST", scope: "ingest", json: event });
  assert.equal(same.status, 202);
  assert.deepEqual(await same.json(), { id: event["id"], duplicate: true });

  const changed = { ...event, data: { ...(event["data"] as Record<string, unknown>), subject: "Another subject" } };
  const reused = await hub.request("/v1/events", { method: "POST", scope: "ingest", json: changed });
  assert.equal(reused.status, 409);
  assert.equal(reused.headers.get("content-type"), "application/problem+json; charset=utf-8");
  const problem = (await reused.json()) as { code: string; detail: string };
  assert.equal(problem.code, "idempotency_conflict");
  assert.match(problem.detail, new RegExp(String(event["id"])));

  const batch = await hub.request("/v1/events/batch", { method: "POST", scope: "ingest", json: { events: [event, changed, ticketCreated()] } });
  assert.equal(batch.status, 200);
  const { results } = (await batch.json()) as { results: { status: number; code?: string; duplicate?: boolean }[] };
  assert.deepEqual(results.map((r) => r.status), [202, 409, 202]);
  assert.equal(results[0]?.duplicate, true);
  assert.equal(results[1]?.code, "idempotency_conflict");
});
