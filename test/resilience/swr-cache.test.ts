import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import type { CacheEntry } from "../../src/resilience/cache-entry.ts";
import type { CacheTier } from "../../src/resilience/cache-tier.ts";
import { createSwrCache } from "../../src/resilience/swr-cache.ts";

// Wide margins: the machine is shared, and a timer may fire tens of ms late.
const policy = { ttlMs: 100, maxStaleMs: 150 };

test("an entry is fresh within its TTL, stale until the max stale age, then gone", async () => {
  const cache = createSwrCache();
  assert.equal(await cache.set("k", { n: 1 }, policy), true);
  const fresh = cache.peek<{ n: number }>("k", policy);
  assert.equal(fresh?.state, "fresh");
  assert.deepEqual(fresh?.value, { n: 1 });
  assert.ok((fresh?.ageMs ?? -1) >= 0 && (fresh?.ageMs ?? 999) < 100);
  await sleep(120);
  const stale = cache.peek("k", policy);
  assert.equal(stale?.state, "stale");
  assert.ok((stale?.ageMs ?? 0) >= 100);
  await sleep(160);
  assert.equal(cache.peek("k", policy), undefined);
  assert.equal(await cache.get("k", policy), undefined);
});

test("the policy is per call: the same entry can be fresh for one part and stale for another", async () => {
  const cache = createSwrCache();
  await cache.set("k", "v", { ttlMs: 1000, maxStaleMs: 1000 });
  await sleep(30);
  assert.equal(cache.peek("k", { ttlMs: 1000, maxStaleMs: 0 })?.state, "fresh");
  assert.equal(cache.peek("k", { ttlMs: 10, maxStaleMs: 1000 })?.state, "stale");
});

test("null is a value (a cached 'not found'), distinct from a miss", async () => {
  const cache = createSwrCache();
  await cache.set("gone", null, policy);
  assert.deepEqual(cache.peek("gone", policy)?.value, null);
  assert.equal(cache.peek("never", policy), undefined);
});

test("the least recently used entry goes first when full", async () => {
  const cache = createSwrCache({ maxEntries: 2 });
  const long = { ttlMs: 10_000, maxStaleMs: 0 };
  await cache.set("a", 1, long);
  await cache.set("b", 2, long);
  cache.peek("a", long);
  await cache.set("c", 3, long);
  assert.equal(cache.size, 2);
  assert.equal(cache.peek("b", long), undefined);
  assert.equal(cache.peek("a", long)?.value, 1);
});

test("invalidation removes the entry and drops a value whose load started before it", async () => {
  const cache = createSwrCache();
  const long = { ttlMs: 10_000, maxStaleMs: 0 };
  await cache.set("k", "old", long);
  const loadStartedAt = Date.now();
  await sleep(5);
  await cache.invalidate(["k"]);
  assert.equal(cache.peek("k", long), undefined);
  assert.equal(await cache.set("k", "loaded before the change", long, { loadStartedAt }), false);
  assert.equal(cache.peek("k", long), undefined);
  await sleep(5);
  assert.equal(await cache.set("k", "new", long, { loadStartedAt: Date.now() }), true);
  assert.equal(cache.peek("k", long)?.value, "new");
});

/** A tier of our own in a Map, to check how the cache uses a tier; the Redis tier has its own test. */
function mapTier(): CacheTier & { entries: Map<string, CacheEntry<unknown>>; failing: boolean } {
  const entries = new Map<string, CacheEntry<unknown>>();
  const tier = {
    entries,
    failing: false,
    async get(key: string) {
      if (tier.failing) throw new Error("tier down");
      return entries.get(key);
    },
    async set(key: string, entry: CacheEntry<unknown>) {
      if (tier.failing) throw new Error("tier down");
      entries.set(key, entry);
    },
    async delete(keys: readonly string[]) {
      if (tier.failing) throw new Error("tier down");
      for (const key of keys) entries.delete(key);
    },
  };
  return tier;
}

test("a second cache finds what the first stored through the shared tier, with its real age", async () => {
  const tier = mapTier();
  const a = createSwrCache({ tier });
  const b = createSwrCache({ tier });
  await a.set("k", "shared", policy);
  await sleep(20);
  assert.equal(b.peek("k", policy), undefined, "peek never leaves the process");
  const found = await b.get<string>("k", policy);
  assert.equal(found?.value, "shared");
  assert.ok((found?.ageMs ?? 0) >= 15, "age counts from when the first cache stored it");
  assert.equal(b.peek("k", policy)?.value, "shared", "promoted into the process");
  await a.invalidate(["k"]);
  assert.equal(tier.entries.has("k"), false);
});

test("a fresher tier entry replaces a stale local one", async () => {
  const tier = mapTier();
  const a = createSwrCache({ tier });
  const b = createSwrCache({ tier });
  await b.set("k", "old", policy);
  await sleep(120);
  assert.equal(b.peek("k", policy)?.state, "stale");
  await a.set("k", "new", policy);
  const found = await b.get("k", policy);
  assert.deepEqual([found?.state, found?.value], ["fresh", "new"]);
});

test("a failing tier is reported and treated as a miss, never as an error", async () => {
  const tier = mapTier();
  const failures: string[] = [];
  const cache = createSwrCache({ tier, onTierError: (_error, operation) => failures.push(operation) });
  tier.failing = true;
  assert.equal(await cache.set("k", 1, policy), true);
  assert.equal(cache.peek("k", policy)?.value, 1);
  await sleep(120);
  assert.equal((await cache.get("k", policy))?.state, "stale");
  await cache.invalidate(["k"]);
  assert.deepEqual(failures, ["set", "get", "delete"]);
});

test("invalidateLocal leaves the shared tier alone and still drops loads that started before it", async () => {
  const tier = mapTier();
  const cache = createSwrCache({ tier });
  const long = { ttlMs: 10_000, maxStaleMs: 0 };
  await cache.set("k", "v", long);
  const loadStartedAt = Date.now();
  await sleep(5);
  cache.invalidateLocal(["k"]);
  assert.equal(cache.peek("k", long), undefined);
  assert.equal(tier.entries.has("k"), true);
  assert.equal(await cache.set("k", "late", long, { loadStartedAt }), false);
});
