import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import { createRedisCacheTier } from "../../src/resilience/redis-cache-tier.ts";
import { createSwrCache } from "../../src/resilience/swr-cache.ts";
import { deleteKeys, eventually, TEST_REDIS_URL } from "../helpers/test-hub.ts";

const prefix = `test-${randomUUID().slice(0, 8)}:cache:`;
let redis: Redis;
before(() => {
  redis = new Redis(TEST_REDIS_URL);
});
after(async () => {
  await redis.quit();
  await deleteKeys(prefix);
});

test("stores JSON with its storedAt under the prefix and expires it after the entry's lifetime", async () => {
  const tier = createRedisCacheTier({ redis, keyPrefix: prefix });
  await tier.set("order:1", { value: { id: "1", items: [] }, storedAt: 1234 }, 300);
  assert.deepEqual(await tier.get("order:1"), { value: { id: "1", items: [] }, storedAt: 1234 });
  const pttl = await redis.pttl(`${prefix}order:1`);
  assert.ok(pttl > 0 && pttl <= 300, `pttl ${pttl}`);
  await eventually(async () => (await tier.get("order:1")) === undefined, 2000, "the key to expire");
});

test("null survives the trip; a missing or foreign value is a miss", async () => {
  const tier = createRedisCacheTier({ redis, keyPrefix: prefix });
  await tier.set("nothing", { value: null, storedAt: 5 }, 10_000);
  assert.deepEqual(await tier.get("nothing"), { value: null, storedAt: 5 });
  assert.equal(await tier.get("absent"), undefined);
  await redis.set(`${prefix}foreign`, JSON.stringify({ something: "else" }), "PX", 10_000);
  assert.equal(await tier.get("foreign"), undefined);
  await tier.delete(["nothing", "foreign"]);
  assert.equal(await redis.exists(`${prefix}nothing`, `${prefix}foreign`), 0);
  await tier.delete([]);
});

test("two hub instances share entries and invalidations through Redis", async () => {
  const policy = { ttlMs: 10_000, maxStaleMs: 10_000 };
  // One clock the test moves for both instances: the age read back is exact.
  let now = 1_000_000;
  const clock = (): number => now;
  const a = createSwrCache({ tier: createRedisCacheTier({ redis, keyPrefix: prefix }), now: clock });
  const other = new Redis(TEST_REDIS_URL);
  try {
    const b = createSwrCache({ tier: createRedisCacheTier({ redis: other, keyPrefix: prefix }), now: clock });
    await a.set("customer:c1", { name: "Li Lei" }, policy);
    now += 10;
    const found = await b.get<{ name: string }>("customer:c1", policy);
    assert.deepEqual(found?.value, { name: "Li Lei" });
    assert.equal(found?.state, "fresh");
    assert.equal(found?.ageMs, 10, "the age stored with the entry survives the trip through Redis");
    await a.invalidate(["customer:c1"]);
    assert.equal(await redis.exists(`${prefix}customer:c1`), 0);
  } finally {
    await other.quit();
  }
});

test("an unreachable Redis degrades the cache to in-process only", async () => {
  // Nothing listens on port 1; no offline queue and no retries, so every command fails at once.
  const down = new Redis({ port: 1, host: "127.0.0.1", lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  down.on("error", () => undefined);
  const errors: string[] = [];
  let now = 1_000_000;
  const cache = createSwrCache({
    tier: createRedisCacheTier({ redis: down, keyPrefix: prefix }),
    onTierError: (_error, operation) => errors.push(operation),
    now: () => now,
  });
  const policy = { ttlMs: 10, maxStaleMs: 10_000 };
  assert.equal(await cache.set("k", 1, policy), true);
  now += 20; // stale in process, so get asks the tier, which fails
  assert.equal((await cache.get("k", policy))?.value, 1);
  assert.deepEqual(errors, ["set", "get"]);
  down.disconnect();
});
