/** A cached value and when it was stored (epoch ms), so that its age survives a trip through Redis. */
export interface CacheEntry<T> {
  value: T;
  storedAt: number;
}

/** How long an entry is fresh, and how much longer it may still be served while it is refreshed. */
export interface CachePolicy {
  ttlMs: number;
  /** After `ttlMs`, the entry may be served stale for this long (stale-while-revalidate). */
  maxStaleMs: number;
}

export type Freshness = "fresh" | "stale" | "expired";

export function freshness(entry: CacheEntry<unknown>, policy: CachePolicy, now: number): Freshness {
  const ageMs = now - entry.storedAt;
  if (ageMs < policy.ttlMs) return "fresh";
  if (ageMs < policy.ttlMs + policy.maxStaleMs) return "stale";
  return "expired";
}

/** How long a store should keep the entry at all: past this it can never be served. */
export function lifetimeMs(policy: CachePolicy): number {
  return policy.ttlMs + policy.maxStaleMs;
}
