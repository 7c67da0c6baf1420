import { LRUCache } from "lru-cache";
import { freshness, lifetimeMs, type CacheEntry, type CachePolicy } from "./cache-entry.ts";
import type { CacheTier } from "./cache-tier.ts";

/** What the process keeps: the entry, and its JSON once somebody asked for it. */
interface MemoryEntry extends CacheEntry<unknown> {
  json?: Buffer;
}

/** What a lookup found: a fresh entry, or a stale one that may be served while it is refreshed. */
export interface CacheLookup<T> {
  state: "fresh" | "stale";
  value: T;
  ageMs: number;
}

/** A lookup that also carries the value as UTF-8 JSON, serialized once per stored entry. */
export interface SerializedLookup<T> extends CacheLookup<T> {
  json: Buffer;
}

export interface SwrCacheOptions {
  /** Most entries kept in process; the least recently used go first. @defaultValue 10000 */
  maxEntries?: number;
  /** Optional shared tier (Redis) behind the process's LRU. */
  tier?: CacheTier;
  /** Told when the tier fails; the cache carries on without it. */
  onTierError?: (error: unknown, operation: "get" | "set" | "delete") => void;
  /** @defaultValue Date.now */
  now?: () => number;
}

export interface SetOptions {
  /**
   * When the load that produced the value started. A value whose load started before the key was
   * last invalidated is dropped: it may predate the change that caused the invalidation.
   */
  loadStartedAt?: number;
}

/**
 * An LRU with a TTL per call and stale-while-revalidate, with an optional shared tier behind it.
 * Values may be `null` (a cached "not found"). The policy is given on every call rather than per
 * cache, so that one cache serves parts with different TTLs.
 */
export interface SwrCache {
  /** In-process only, synchronous: the hot path. */
  peek<T>(key: string, policy: CachePolicy): CacheLookup<T> | undefined;
  /** As {@link peek}, with the value's JSON, so that hot answers are not serialized again on every request. */
  peekSerialized<T>(key: string, policy: CachePolicy): SerializedLookup<T> | undefined;
  /** In-process, then the tier when the process has nothing fresh; a fresher tier entry is kept in process. */
  get<T>(key: string, policy: CachePolicy): Promise<CacheLookup<T> | undefined>;
  /** Stores in process at once; resolves when the tier has it too (never rejects). False when dropped. */
  set<T>(key: string, value: T, policy: CachePolicy, options?: SetOptions): Promise<boolean>;
  /** Removes the keys from both levels and drops values still being loaded for them. */
  invalidate(keys: readonly string[]): Promise<void>;
  /** As {@link invalidate}, in this process only: another instance already removed the shared copy. */
  invalidateLocal(keys: readonly string[]): void;
  readonly size: number;
  /** Entries and about how many bytes they take: counted JSON where serialized, sampled otherwise. */
  memoryReport(): { entries: number; bytes: number; estimated: boolean };
}

/** Entries stringified to estimate the ones that have no JSON yet; bounded, since /godmode asks every second. */
const SIZE_SAMPLE = 32;

export function createSwrCache(options: SwrCacheOptions = {}): SwrCache {
  const { tier, onTierError = () => undefined, now = Date.now } = options;
  const maxEntries = options.maxEntries ?? 10_000;
  // No lru-cache TTL: freshness is computed here, from storedAt, so that an entry promoted from
  // Redis keeps its real age, and a lookup that finds an expired entry removes it.
  const memory = new LRUCache<string, MemoryEntry>({ max: maxEntries });
  const invalidatedAt = new LRUCache<string, number>({ max: maxEntries });

  const lookup = <T>(entry: CacheEntry<unknown> | undefined, policy: CachePolicy): CacheLookup<T> | undefined => {
    if (!entry) return undefined;
    const at = now();
    const state = freshness(entry, policy, at);
    if (state === "expired") return undefined;
    return { state, value: entry.value as T, ageMs: Math.max(0, at - entry.storedAt) };
  };

  const peek = <T>(key: string, policy: CachePolicy): CacheLookup<T> | undefined => {
    const entry = memory.get(key);
    const found = lookup<T>(entry, policy);
    if (entry && !found) memory.delete(key);
    return found;
  };

  const invalidateLocal = (keys: readonly string[]): void => {
    const at = now();
    for (const key of keys) {
      memory.delete(key);
      invalidatedAt.set(key, at);
    }
  };

  const keep = (key: string, entry: CacheEntry<unknown>, policy: CachePolicy): void => {
    if (entry.storedAt + lifetimeMs(policy) > now()) memory.set(key, { value: entry.value, storedAt: entry.storedAt });
  };

  return {
    peek,
    peekSerialized<T>(key: string, policy: CachePolicy): SerializedLookup<T> | undefined {
      const entry = memory.get(key);
      const found = lookup<T>(entry, policy);
      if (!entry || !found) {
        if (entry) memory.delete(key);
        return undefined;
      }
      return { state: found.state, value: found.value, ageMs: found.ageMs, json: (entry.json ??= Buffer.from(JSON.stringify(entry.value))) };
    },
    async get<T>(key: string, policy: CachePolicy) {
      const mine = peek<T>(key, policy);
      if (mine?.state === "fresh" || !tier) return mine;
      let shared: CacheEntry<unknown> | undefined;
      try {
        shared = await tier.get(key);
      } catch (error) {
        onTierError(error, "get");
        return mine;
      }
      const remote = lookup<T>(shared, policy);
      if (!shared || !remote || (mine && mine.ageMs <= remote.ageMs)) return mine;
      keep(key, shared, policy);
      return remote;
    },
    async set(key, value, policy, { loadStartedAt } = {}) {
      const invalidated = invalidatedAt.get(key);
      if (invalidated !== undefined && loadStartedAt !== undefined && loadStartedAt <= invalidated) return false;
      const entry: CacheEntry<unknown> = { value, storedAt: now() };
      keep(key, entry, policy);
      if (tier) {
        try {
          await tier.set(key, entry, lifetimeMs(policy));
        } catch (error) {
          onTierError(error, "set");
        }
      }
      return true;
    },
    invalidateLocal,
    async invalidate(keys) {
      invalidateLocal(keys);
      if (!tier) return;
      try {
        await tier.delete(keys);
      } catch (error) {
        onTierError(error, "delete");
      }
    },
    memoryReport() {
      let bytes = 0;
      let withoutJson = 0;
      let sampled = 0;
      let sampledBytes = 0;
      for (const [key, entry] of memory.entries()) {
        bytes += key.length * 2 + 64;
        if (entry.json) {
          bytes += entry.json.length;
        } else {
          withoutJson++;
          if (sampled < SIZE_SAMPLE) {
            sampled++;
            // UTF-16 in the heap: about twice the JSON's length for the object graph, as a floor.
            sampledBytes += (JSON.stringify(entry.value)?.length ?? 4) * 2;
          }
        }
      }
      if (sampled > 0) bytes += Math.round((sampledBytes / sampled) * withoutJson);
      return { entries: memory.size, bytes, estimated: true };
    },
    get size() {
      return memory.size;
    },
  };
}
