/**
 * Concurrent callers asking for the same key share one execution of the work: the first starts it,
 * the others get its promise. The key is free again as soon as the work settles, so that a failure
 * is not remembered (caching results is the cache's job, not this one's).
 */
export interface SingleFlight<V> {
  run(key: string, work: () => Promise<V>): Promise<V>;
  /** Whether work for `key` is running now. */
  has(key: string): boolean;
  /** Lets the next `run(key)` start new work even while the current one runs (after an invalidation). */
  forget(key: string): void;
  readonly size: number;
}

export function createSingleFlight<V>(): SingleFlight<V> {
  const running = new Map<string, Promise<V>>();
  return {
    run(key, work) {
      const existing = running.get(key);
      if (existing) return existing;
      let started: Promise<V>;
      try {
        started = work();
      } catch (error) {
        started = Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      const shared = started.finally(() => {
        // Only the entry we put there: after forget() a newer run may own the key.
        if (running.get(key) === shared) running.delete(key);
      });
      running.set(key, shared);
      return shared;
    },
    has: (key) => running.has(key),
    forget: (key) => void running.delete(key),
    get size() {
      return running.size;
    },
  };
}
