import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Redis } from "ioredis";
import { DELIVERY_QUEUE, queuePrefix } from "../../src/delivery/delivery-keys.ts";
import { deleteKeys, eventually, startTestHub, TEST_REDIS_URL } from "../helpers/test-hub.ts";
import { deliveriesOfEvent, FAST, postEvent, subscribe, ticketCreated } from "./fixtures.ts";
import { startReceiver } from "./receiver.ts";

const redis = new Redis(TEST_REDIS_URL);
after(() => redis.quit());

/** The delivery jobs' BullMQ keys that a live worker holds: the active list and the job locks. */
async function heldByAWorker(prefix: string): Promise<{ active: number; locks: string[] }> {
  const queue = `${queuePrefix(prefix)}:${DELIVERY_QUEUE}`;
  return { active: await redis.llen(`${queue}:active`), locks: await redis.keys(`${queue}:*:lock`) };
}

test("closing the hub lets an active delivery finish within the grace, and records it", async () => {
  let release: (() => void) | undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const receiver = await startReceiver(async () => {
    await held;
    return { status: 204 };
  });
  const hub = await startTestHub({ ...FAST, shutdownGraceMs: 5000 }, {}, { keepKeys: true });
  try {
    await subscribe(hub, receiver.url);
    const { id } = await postEvent(hub, ticketCreated());
    await eventually(() => receiver.received[0], 5000, "the delivery to reach the receiver");
    const closing = hub.close();
    // Later than the rest of the close takes: only a close that waits for the delivery records it.
    setTimeout(() => release?.(), 500);
    await closing;
    assert.deepEqual(await heldByAWorker(hub.prefix), { active: 0, locks: [] }, "the job was moved to completed before the worker stopped");
    assert.equal(receiver.received.length, 1);
    const reader = await startTestHub({ ...FAST, deliveryWorkers: false }, {}, { prefix: hub.prefix, keepKeys: true });
    try {
      assert.deepEqual((await deliveriesOfEvent(reader, id)).map((delivery) => delivery.status), ["delivered"]);
    } finally {
      await reader.close();
    }
  } finally {
    release?.();
    await receiver.close();
    await deleteKeys(hub.prefix);
  }
});

test("a delivery that outlasts the grace is left to be retaken: the closed worker no longer renews its lock", async () => {
  const receiver = await startReceiver(() => ({ status: 204, delayMs: 20_000 }));
  const hub = await startTestHub({ ...FAST, shutdownGraceMs: 200, deliveryLockMs: 1000 }, {}, { keepKeys: true });
  try {
    await subscribe(hub, receiver.url);
    const { id } = await postEvent(hub, ticketCreated());
    await eventually(() => receiver.received[0], 5000, "the delivery to reach the receiver");
    assert.equal((await deliveriesOfEvent(hub, id)).length, 1);
    await hub.close();
    // A worker left running renews the lock every half lock duration, so it would never expire.
    await eventually(async () => (await heldByAWorker(hub.prefix)).locks.length === 0, 4000, "the job's lock to expire");
    assert.equal((await heldByAWorker(hub.prefix)).active, 1, "the job waits in active for a stalled check to retake it");
  } finally {
    await receiver.close();
    await deleteKeys(hub.prefix);
  }
});
