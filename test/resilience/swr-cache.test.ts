import assert from "node:assert/strict";
import { test } from "node:test";
import type { CacheEntry } from "../../src/resilience/cache-entry.ts";
import type { CacheTier } from "../../src/resilience/cache-tier.ts";
import { createSwrCache } from "../../src/resilience/swr-cache.ts";

const policy = { ttlMs: 100, maxStaleMs: 150 };

/** A clock the test moves: ages are exact, and nothing waits for real time to pass. */
function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let at = start;
  return { now: () => at, advance: (ms) => (at += ms) };
}

test("an entry is fresh within its TTL, stale until the max stale age, then gone", async () => {
  const clock = manualClock();
  const cache = createSwrCache({ now: clock.now });
  assert.equal(await cache.set("k", { n: 1 }, policy), true);
  const fresh = cache.peek<{ n: number }>("k", policy);
  assert.equal(fresh?.state, "fresh");
  assert.deepEqual(fresh?.value, { n: 1 });
  assert.equal(fresh?.ageMs, 0);
  clock.advance(99);
  assert.deepEqual([cache.peek("k", policy)?.state, cache.peek("k", policy)?.ageMs], ["fresh", 99]);
  clock.advance(1);
  const stale = cache.peek("k", policy);
  assert.deepEqual([stale?.state, stale?.ageMs], ["stale", 100], "stale from ttlMs on");
  clock.advance(149);
  assert.equal(cache.peek("k", policy)?.state, "stale");
  clock.advance(1);
  assert.equal(cache.peek("k", policy), undefined, "gone at ttlMs + maxStaleMs");
  assert.equal(await cache.get("k", policy), undefined);
});

test("the policy is per call: the same entry can be fresh for one part and stale for another", async () => {
  const clock = manualClock();
  const cache = createSwrCache({ now: clock.now });
  await cache.set("k", "v", { ttlMs: 1000, maxStaleMs: 1000 });
  clock.advance(30);
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
  const clock = manualClock();
  const cache = createSwrCache({ now: clock.now });
  const long = { ttlMs: 10_000, maxStaleMs: 0 };
  await cache.set("k", "old", long);
  const loadStartedAt = clock.now();
  clock.advance(5);
  await cache.invalidate(["k"]);
  assert.equal(cache.peek("k", long), undefined);
  assert.equal(await cache.set("k", "loaded before the change", long, { loadStartedAt }), false);
  assert.equal(await cache.set("k", "loaded as it changed", long, { loadStartedAt: clock.now() }), false, "a load started at the invalidation may predate the change");
  assert.equal(cache.peek("k", long), undefined);
  clock.advance(1);
  assert.equal(await cache.set("k", "new", long, { loadStartedAt: clock.now() }), true);
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
  const clock = manualClock();
  const a = createSwrCache({ tier, now: clock.now });
  const b = createSwrCache({ tier, now: clock.now });
  await a.set("k", "shared", policy);
  clock.advance(20);
  assert.equal(b.peek("k", policy), undefined, "peek never leaves the process");
  const found = await b.get<string>("k", policy);
  assert.equal(found?.value, "shared");
  assert.equal(found?.ageMs, 20, "age counts from when the first cache stored it");
  assert.equal(b.peek("k", policy)?.value, "shared", "promoted into the process");
  await a.invalidate(["k"]);
  assert.equal(tier.entries.has("k"), false);
});

test("a fresher tier entry replaces a stale local one", async () => {
  const tier = mapTier();
  const clock = manualClock();
  const a = createSwrCache({ tier, now: clock.now });
  const b = createSwrCache({ tier, now: clock.now });
  await b.set("k", "old", policy);
  clock.advance(120);
  assert.equal(b.peek("k", policy)?.state, "stale");
  await a.set("k", "new", policy);
  const found = await b.get("k", policy);
  assert.deepEqual([found?.state, found?.value], ["fresh", "new"]);
});

test("a failing tier is reported and treated as a miss, never as an error", async () => {
  const tier = mapTier();
  const failures: string[] = [];
  const clock = manualClock();
  const cache = createSwrCache({ tier, now: clock.now, onTierError: (_error, operation) => failures.push(operation) });
  tier.failing = true;
  assert.equal(await cache.set("k", 1, policy), true);
  assert.equal(cache.peek("k", policy)?.value, 1);
  clock.advance(120);
  assert.equal((await cache.get("k", policy))?.state, "stale");
  await cache.invalidate(["k"]);
  assert.deepEqual(failures, ["set", "get", "delete"]);
});

test("invalidateLocal leaves the shared tier alone and still drops loads that started before it", async () => {
  const tier = mapTier();
  const clock = manualClock();
  const cache = createSwrCache({ tier, now: clock.now });
  const long = { ttlMs: 10_000, maxStaleMs: 0 };
  await cache.set("k", "v", long);
  const loadStartedAt = clock.now();
  clock.advance(5);
  cache.invalidateLocal(["k"]);
  assert.equal(cache.peek("k", long), undefined);
  assert.equal(tier.entries.has("k"), true);
  assert.equal(await cache.set("k", "late", long, { loadStartedAt }), false);
});
