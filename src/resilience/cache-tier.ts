import type { CacheEntry } from "./cache-entry.ts";

/**
 * A second, shared level behind the in-process cache (Redis, so that several hub instances share
 * what one of them fetched). Every method may reject; the cache in front treats a failing tier as
 * a miss, never as a failed request.
 */
export interface CacheTier {
  get(key: string): Promise<CacheEntry<unknown> | undefined>;
  /** Keeps the entry for `lifetimeMs`, after which the tier may drop it. */
  set(key: string, entry: CacheEntry<unknown>, lifetimeMs: number): Promise<void>;
  delete(keys: readonly string[]): Promise<void>;
}
