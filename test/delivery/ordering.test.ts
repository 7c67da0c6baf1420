import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { eventually, type TestHub } from "../helpers/test-hub.ts";
import { startDeliveryHub, subscribe } from "./fixtures.ts";
import { startReceiver, type Receiver } from "./receiver.ts";

const KEYS = Number(process.env["KEFU_TEST_KEYS"] ?? 50);
const PER_KEY = Number(process.env["KEFU_TEST_PER_KEY"] ?? 40);

let hub: TestHub;
const receivers: Receiver[] = [];
before(async () => {
  // Ten tries in all, so that a random 20 % failure rate dead-letters nothing (0.2^10 per event).
  // The default hand-off grace: a shorter one on two busy cores hands live events over again.
  hub = await startDeliveryHub({
    deliveryRetrySchedule: "20ms,20ms,20ms,20ms,20ms,20ms,20ms,20ms,20ms",
    deliveryConcurrency: 50,
    deliveryBreakerVolumeThreshold: 100_000,
    eventsHandoffGraceMs: 2000,
  });
});
after(async () => {
  await hub.close();
  await Promise.all(receivers.map((r) => r.close()));
});

/** A seeded generator, so that a failing run can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

function message(sessionId: string, index: number): Record<string, unknown> {
  return {
    id: `evt_${sessionId}_${index}`,
    type: "chat.message.created",
    occurredAt: "2026-12-02T08:00:00Z",
    source: "widget",
    data: { sessionId, messageId: `m-${index}`, sender: { type: "customer", id: "C-1" }, text: `message ${index}` },
  };
}

test(`ordering "conversation": ${KEYS} conversations × ${PER_KEY} events reach a flaky, slow receiver in accept order per conversation`, async () => {
  const random = seeded(Number(process.env["KEFU_TEST_SEED"] ?? 20261202));
  const inFlight = new Map<string, number>();
  let overlapped = 0;
  // Successful receipts per conversation, in the order they were answered.
  const delivered = new Map<string, number[]>();
  let failures = 0;
  const receiver = await startReceiver((req) => {
    const { data } = JSON.parse(req.body) as { data: { sessionId: string; messageId: string } };
    const session = data.sessionId;
    const now = (inFlight.get(session) ?? 0) + 1;
    inFlight.set(session, now);
    if (now > 1) overlapped++;
    const delayMs = Math.floor(random() * 8);
    const fail = random() < 0.2;
    setTimeout(() => inFlight.set(session, (inFlight.get(session) ?? 1) - 1), delayMs);
    if (fail) failures++;
    else delivered.set(session, [...(delivered.get(session) ?? []), Number(data.messageId.slice(2))]);
    return fail ? { status: 500, delayMs } : { status: 204, delayMs };
  });
  receivers.push(receiver);
  const ordered = await subscribe(hub, `${receiver.url}/ordered`, { ordering: "conversation", events: ["chat.message.created"] });
  const view = (await (await hub.request(`/v1/subscriptions/${ordered.id}`)).json()) as { ordering?: string };
  assert.equal(view.ordering, "conversation");

  // Accept order per conversation is the order of the 202s: each conversation posts sequentially,
  // the conversations concurrently.
  const sessions = Array.from({ length: KEYS }, (_, k) => `S-${k}`);
  await Promise.all(
    sessions.map(async (session) => {
      for (let i = 0; i < PER_KEY; i++) {
        const response = await hub.request("/v1/events", { method: "POST", scope: "ingest", json: message(session, i) });
        assert.equal(response.status, 202);
      }
    }),
  );
  if (process.env["KEFU_TEST_DEBUG"]) setInterval(() => console.log([...delivered].map(([k, v]) => `${k}:${v.length}`).join(" "), failures), 3000).unref();
  await eventually(() => [...delivered.values()].reduce((n, list) => n + list.length, 0) >= KEYS * PER_KEY, 60_000, "every event delivered");
  for (const session of sessions) {
    assert.deepEqual(delivered.get(session), Array.from({ length: PER_KEY }, (_, i) => i), `order of ${session}`);
  }
  assert.equal(overlapped, 0, "never two deliveries of one conversation in flight at once");
  assert.ok(failures > KEYS, `the receiver failed ${failures} times: retries were exercised`);
});
