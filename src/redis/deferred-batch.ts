export interface DeferredBatch<T> {
  add(items: readonly T[]): void;
  /** Sends what is waiting now. */
  flush(): Promise<void>;
}

/**
 * Collects items and hands them to `send` together at most every `flushMs`: for bookkeeping
 * writes that may lag (clearing a recovery mark), one command per interval instead of one per
 * item. `send` must not throw; it logs what it could not write.
 */
export function createDeferredBatch<T>(send: (items: T[]) => Promise<void>, flushMs: number): DeferredBatch<T> {
  let waiting: T[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = async (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    if (waiting.length === 0) return;
    const items = waiting;
    waiting = [];
    await send(items);
  };
  return {
    add(items) {
      waiting.push(...items);
      timer ??= setTimeout(() => void flush(), flushMs);
    },
    flush,
  };
}
