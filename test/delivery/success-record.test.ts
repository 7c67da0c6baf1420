import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import { deliveryKeys } from "../../src/delivery/delivery-keys.ts";
import { createDeliveryStore, type DeliveryStore } from "../../src/delivery/delivery-store.ts";
import { deleteKeysAt } from "../helpers/delete-keys.ts";
import { TEST_REDIS_URL } from "../helpers/test-hub.ts";

// The success record is one HSET on the hot path: these pin what it must still do without the
// HINCRBY and EXPIRE it replaced.
const prefix = `test-success-${randomUUID().slice(0, 8)}:`;
const keys = deliveryKeys(prefix);
const RETENTION_SECONDS = 3600;
let redis: Redis;
let store: DeliveryStore;

before(() => {
  redis = new Redis(TEST_REDIS_URL);
  store = createDeliveryStore({ redis, keys, retentionSeconds: RETENTION_SECONDS, deadLetterSeconds: 7200 });
});
after(async () => {
  await redis.quit();
  await deleteKeysAt(TEST_REDIS_URL, prefix);
});

async function created(subscriptionId: string, ttlSeconds: number): Promise<string> {
  const eventId = `evt_${randomUUID()}`;
  const id = `${eventId}.${subscriptionId}`;
  await store.create({ eventId, eventType: "ticket.created", createdAtMs: Date.now(), deliveries: [{ id, subscriptionId }] });
  await redis.expire(keys.delivery(id), ttlSeconds);
  return id;
}

const attempt = (statusCode: number) => ({ at: new Date().toISOString(), statusCode, durationMs: 3 });

test("a success counts as one attempt on top of the failed ones, however often it is recorded", async () => {
  const id = await created("sub_a", RETENTION_SECONDS);
  const ref = { id, subscriptionId: "sub_a" };
  await store.recordAttempt(ref, attempt(500), { status: "retrying", nextAttemptAt: Date.now() + 1000 });
  await store.recordDelivered(ref, attempt(200), Date.now());
  assert.equal((await store.get(id))?.attempts, 2);
  // A delivery recovery queued twice records its success twice: it is still one success.
  await store.recordDelivered(ref, attempt(200), Date.now());
  const detail = await store.get(id);
  assert.equal(detail?.status, "delivered");
  assert.equal(detail?.attempts, 2);
  assert.deepEqual(detail?.attemptLog.map((a) => a.statusCode), [500, 200]);
});

test("a success right after the expiry was set keeps it; a later one renews it to the retention", async () => {
  const soon = await created("sub_b", 100);
  await store.recordDelivered({ id: soon, subscriptionId: "sub_b" }, attempt(204), Date.now() - 1000);
  const kept = await redis.ttl(keys.delivery(soon));
  assert.ok(kept > 0 && kept <= 100, `TTL ${kept} s: the creation's expiry stands`);

  const late = await created("sub_b", 100);
  await store.recordDelivered({ id: late, subscriptionId: "sub_b" }, attempt(204), Date.now() - 10 * 60_000);
  const renewed = await redis.ttl(keys.delivery(late));
  assert.ok(renewed > RETENTION_SECONDS - 60, `TTL ${renewed} s: renewed to the retention (${RETENTION_SECONDS} s)`);

  const unknown = await created("sub_b", 100);
  await store.recordDelivered({ id: unknown, subscriptionId: "sub_b" }, attempt(204));
  assert.ok((await redis.ttl(keys.delivery(unknown))) > RETENTION_SECONDS - 60, "without a time, the expiry is renewed");
});
