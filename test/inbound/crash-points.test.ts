import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, test } from "node:test";
import type { FaultPoint } from "../../src/fault-points.ts";
import { deleteKeys, eventually } from "../helpers/test-hub.ts";
import { allDeliveries, deliveryById, hmacSource, startInboundHub, type InboundHub } from "./helpers.ts";

// Each test arms one crash point of the inbound path: the hook throws there, so nothing after it
// runs for that delivery, which is what Redis holds when the process dies at that point. Another
// part of the hub (the provider's retry, recovery on start or in a live instance) must finish it.

const prefix = `test-inbound-crash-${randomUUID().slice(0, 8)}`;
let armed: FaultPoint | undefined;
const reached: FaultPoint[] = [];
const faults = (point: FaultPoint): void => {
  if (point !== armed) return;
  armed = undefined;
  reached.push(point);
  throw new Error(`injected crash at ${point}`);
};
const open: InboundHub[] = [];
async function startHub(): Promise<InboundHub> {
  const hub = await startInboundHub({ eventsHandoffGraceMs: 300 }, { prefix, keepKeys: true, faults });
  open.push(hub);
  await hub.putSource("carrier", hmacSource({ dedupe: { path: "$.pushId" } }));
  return hub;
}
after(async () => {
  for (const hub of open.splice(0)) await hub.close();
  await deleteKeys(prefix);
});

const push = (): string => JSON.stringify({ pushId: `P-${randomUUID()}`, orderId: "SO-100003" });

async function ingestedOrderUpdates(hub: InboundHub): Promise<number> {
  const text = await (await fetch(`${hub.url}/metrics`)).text();
  return Number(/kefu_events_ingested_total\{type="order.updated"\} (\d+)/.exec(text)?.[1] ?? 0);
}

test("crash after verifying, before storing: no 2xx, nothing stored, and the provider's retry is accepted", async () => {
  const hub = await startHub();
  const body = push();
  armed = "inbound.verified";
  assert.equal((await hub.post("carrier", body)).status, 500);
  assert.deepEqual(reached.splice(0), ["inbound.verified"]);
  assert.equal((await allDeliveries(hub)).length, 0, "nothing stored, no replay or dedupe mark");
  const retry = await hub.post("carrier", body);
  assert.equal(retry.status, 202, "the same signed delivery is not taken for a replay");
  const { id } = (await retry.json()) as { id: string };
  await eventually(async () => (await deliveryById(hub, id))?.status === "processed", 5000, "the retried delivery");
});

test("crash after the 2xx, before the transform: a hub started later transforms the stored delivery", async () => {
  const first = await startHub();
  armed = "inbound.stored";
  const response = await first.post("carrier", push());
  assert.equal(response.status, 202);
  const { id } = (await response.json()) as { id: string };
  await eventually(() => reached.length > 0, 5000, "the crash point");
  assert.deepEqual(reached.splice(0), ["inbound.stored"]);
  assert.equal((await deliveryById(first, id))?.status, "received");
  // The crashed process is gone (its recovery with it); a new one starts on the same Redis.
  await first.close();
  open.splice(open.indexOf(first), 1);
  const second = await startHub();
  const done = await eventually(async () => {
    const delivery = await deliveryById(second, id);
    return delivery?.status === "processed" ? delivery : undefined;
  }, 5000, "recovery on start");
  assert.deepEqual(done.events, [`${id}.0`]);
  assert.equal((await second.request(`/v1/events/${id}.0`, { scope: "read" })).status, 200);
});

test("crash after the events are ingested, before the delivery is marked: recovery re-runs it, no event twice", async () => {
  const hub = open[open.length - 1] ?? (await startHub());
  const before = await ingestedOrderUpdates(hub);
  armed = "inbound.transformed";
  const { id } = (await (await hub.post("carrier", push())).json()) as { id: string };
  await eventually(() => reached.length > 0, 5000, "the crash point");
  assert.deepEqual(reached.splice(0), ["inbound.transformed"]);
  assert.equal((await hub.request(`/v1/events/${id}.0`, { scope: "read" })).status, 200, "the event is in");
  await eventually(async () => (await deliveryById(hub, id))?.status === "processed", 5000, "recovery in the live process");
  assert.equal((await deliveryById(hub, id))?.attempts, 1);
  assert.equal(await ingestedOrderUpdates(hub), before + 1, "the re-run found the event already accepted");
});
