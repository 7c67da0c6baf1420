import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import type { HubConfig } from "../../src/config/config.ts";
import { loadConfig } from "../../src/config/load-config.ts";
import type { FaultPoint } from "../../src/fault-points.ts";
import { hubPaths } from "../../src/paths.ts";
import { createSchemaRegistry } from "../../src/schemas/schema-registry.ts";
import { FAST } from "../delivery/fixtures.ts";
import { startReceiver, type Receiver } from "../delivery/receiver.ts";
import { startEventPath, type EventPath } from "../helpers/event-path.ts";
import { deleteKeys, eventually, TEST_REDIS_URL } from "../helpers/test-hub.ts";

// Each test arms one crash point: the next time the hub reaches it, the hook throws, so nothing
// after that point runs for that event, which is what Redis holds after a crash there. Another
// part of the hub (hand-off recovery, conversation recovery, BullMQ's retry) must finish the work.

const prefix = `test-crash-points-${randomUUID().slice(0, 8)}`;
const schemas = createSchemaRegistry(hubPaths().schemas);
const config: HubConfig = loadConfig({ env: {}, schemas, overrides: { ...FAST, redisPrefix: prefix, redisUrl: TEST_REDIS_URL, logLevel: "silent", eventsHandoffGraceMs: 300 } });
let armed: FaultPoint | undefined;
const reached: FaultPoint[] = [];
let path: EventPath;
let receiver: Receiver;
/** While set, the receiver holds its answers until it settles: a barrier, not a sleep. */
let held: Promise<void> | undefined;
const redis = new Redis(TEST_REDIS_URL);

before(async () => {
  path = await startEventPath({
    config,
    schemas,
    faults: (point) => {
      if (point !== armed) return;
      armed = undefined;
      reached.push(point);
      throw new Error(`injected crash at ${point}`);
    },
  });
  receiver = await startReceiver(async () => {
    await held;
    return { status: 204 };
  });
});
after(async () => {
  await path.close();
  await receiver.close();
  await deleteKeys(prefix);
  redis.disconnect();
});

function chatMessage(sessionId: string, text: string): Parameters<EventPath["events"]["ingest"]["ingest"]>[0] {
  return {
    id: `evt_${randomUUID()}`,
    type: "chat.message.created",
    occurredAt: "2026-12-02T08:00:00Z",
    source: "widget",
    data: { sessionId, messageId: `m-${randomUUID()}`, sender: { type: "customer", id: "C-1" }, text },
  };
}

const subscriptions: string[] = [];
/** The one subscription of a test: the previous test's is deleted, so that an armed point is reached by this test's delivery. */
async function subscribe(pathName: string, body: Record<string, unknown> = {}): Promise<string> {
  for (const id of subscriptions.splice(0)) await path.delivery.subscriptions.delete(id);
  const created = await path.delivery.subscriptions.create({ url: `${receiver.url}/${pathName}`, events: ["chat.message.created"], ...body });
  subscriptions.push(created.id);
  return created.id;
}

const arrivals = (pathName: string, id: string): number => receiver.received.filter((r) => r.path === `/${pathName}` && r.headers["webhook-id"] === id).length;

async function handOffMarks(): Promise<number> {
  return redis.zcard(`${prefix}:ev-handoff`);
}

test("crash after the event is stored, before delivery hears of it: hand-off recovery delivers it once", async () => {
  await subscribe("stored");
  armed = "event.stored";
  const event = chatMessage("S-stored", "hello");
  assert.deepEqual(await path.events.ingest.ingest(event), { id: event.id, duplicate: false });
  assert.deepEqual(reached.splice(0), ["event.stored"]);
  assert.ok((await handOffMarks()) >= 1, "the event stays marked for hand-off");
  const { items } = await path.delivery.deliveriesOf(String(event.id), 10);
  assert.equal(items.length, 1, "its delivery record was written with the event, in the accept script");
  await eventually(() => arrivals("stored", String(event.id)) === 1, 5000, "the recovered delivery");
  await eventually(async () => (await handOffMarks()) === 0, 5000, "the hand-off mark to be cleared");
  assert.equal(arrivals("stored", String(event.id)), 1);
});

test("crash after the jobs are queued, before the mark is cleared: recovery queues nothing twice", async () => {
  await subscribe("queued");
  armed = "delivery.queued";
  const event = chatMessage("S-queued", "hello");
  await path.events.ingest.ingest(event);
  assert.deepEqual(reached.splice(0), ["delivery.queued"]);
  await eventually(() => arrivals("queued", String(event.id)) === 1, 5000, "the delivery");
  await eventually(async () => (await handOffMarks()) === 0, 5000, "recovery to clear the mark");
  // A barrier: an event posted after recovery ran, delivered to the same receiver.
  const barrier = chatMessage("S-queued", "barrier");
  await path.events.ingest.ingest(barrier);
  await eventually(() => arrivals("queued", String(barrier.id)) === 1, 5000, "the barrier");
  assert.equal(arrivals("queued", String(event.id)), 1, "recovery found the delivery final and did not queue it again");
});

test("crash after the delivery records are written, before their jobs: recovery queues them (ordered subscription)", async () => {
  await subscribe("recorded", { ordering: "conversation" });
  armed = "delivery.recorded";
  const event = chatMessage("S-recorded", "hello");
  await path.events.ingest.ingest(event);
  assert.deepEqual(reached.splice(0), ["delivery.recorded"]);
  await eventually(() => arrivals("recorded", String(event.id)) === 1, 5000, "the recovered delivery");
});

test("crash after the POST, before the attempt is recorded: the delivery is retried, never lost", async () => {
  const subscriptionId = await subscribe("sent");
  armed = "attempt.sent";
  const event = chatMessage("S-sent", "hello");
  await path.events.ingest.ingest(event);
  await eventually(() => arrivals("sent", String(event.id)) === 2, 5000, "the redelivery (at least once)");
  assert.deepEqual(reached.splice(0), ["attempt.sent"]);
  const { items } = await path.delivery.deliveriesOf(String(event.id), 10);
  assert.equal((items[0] as { status?: string; subscriptionId?: string }).status, "delivered");
  assert.equal((items[0] as { subscriptionId?: string }).subscriptionId, subscriptionId);
});

test("crash after an ordered conversation moved on, before the next job: conversation recovery queues it, in order", async () => {
  await subscribe("advanced", { ordering: "conversation" });
  const first = chatMessage("S-advanced", "first");
  const second = chatMessage("S-advanced", "second");
  armed = "order.advanced";
  // The first delivery is answered only once the second event waits behind it: otherwise the
  // conversation could move on before the second exists, with nothing to queue at the crash point.
  let release = (): void => {};
  held = new Promise((resolve) => (release = resolve));
  await path.events.ingest.ingest(first);
  await path.events.ingest.ingest(second);
  release();
  held = undefined;
  await eventually(() => arrivals("advanced", String(second.id)) === 1, 5000, "the second event after recovery");
  assert.deepEqual(reached.splice(0), ["order.advanced"]);
  const order = receiver.received.filter((r) => r.path === "/advanced").map((r) => r.headers["webhook-id"]);
  assert.deepEqual(order, [first.id, second.id]);
});
