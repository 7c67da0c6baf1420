import type { Redis } from "ioredis";
import type { CacheEntry } from "./cache-entry.ts";
import type { CacheTier } from "./cache-tier.ts";

export interface RedisCacheTierOptions {
  redis: Redis;
  /** Every key is `${keyPrefix}${key}`, e.g. `kefu:cache:`. */
  keyPrefix: string;
}

interface Stored {
  v: unknown;
  t: number;
}

/** A {@link CacheTier} in Redis: one string key per entry, JSON, expiring with `PX`. */
export function createRedisCacheTier({ redis, keyPrefix }: RedisCacheTierOptions): CacheTier {
  return {
    async get(key) {
      const raw = await redis.get(keyPrefix + key);
      if (raw === null) return undefined;
      const stored = JSON.parse(raw) as Partial<Stored>;
      // Another version of the hub may have written something else under the key: treat as a miss.
      if (typeof stored.t !== "number" || !("v" in stored)) return undefined;
      return { value: stored.v, storedAt: stored.t };
    },
    async set(key, entry: CacheEntry<unknown>, lifetimeMs) {
      const stored: Stored = { v: entry.value, t: entry.storedAt };
      await redis.set(keyPrefix + key, JSON.stringify(stored), "PX", Math.max(1, Math.ceil(lifetimeMs)));
    },
    async delete(keys) {
      if (keys.length > 0) await redis.del(...keys.map((key) => keyPrefix + key));
    },
  };
}
