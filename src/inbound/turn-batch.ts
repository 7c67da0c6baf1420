export interface TurnBatchOptions {
  /** Items per call at most; more in one turn start another call. @defaultValue 100 */
  maxItems?: number;
}

interface Waiting<T, R> {
  items: T[];
  settle: { resolve: (value: R) => void; reject: (error: unknown) => void }[];
}

/**
 * Collects the items added within one turn of the event loop and hands them to `send` together
 * (from `setImmediate`, as ioredis's auto-pipelining does, so that everything the poll phase's I/O
 * callbacks added goes in): one Redis call for a turn's deliveries instead of one each. `send`
 * answers one result per item, in order; each `add` resolves with its own, or rejects with the
 * call's error.
 */
export function createTurnBatch<T, R>(send: (items: T[]) => Promise<R[]>, { maxItems = 100 }: TurnBatchOptions = {}): (item: T) => Promise<R> {
  let waiting: Waiting<T, R> | undefined;
  const flush = (batch: Waiting<T, R>): void => {
    if (waiting === batch) waiting = undefined;
    send(batch.items).then(
      (results) => batch.settle.forEach(({ resolve }, index) => resolve(results[index] as R)),
      (error: unknown) => batch.settle.forEach(({ reject }) => reject(error)),
    );
  };
  return (item) =>
    new Promise<R>((resolve, reject) => {
      if (!waiting || waiting.items.length >= maxItems) {
        const batch: Waiting<T, R> = { items: [], settle: [] };
        waiting = batch;
        setImmediate(flush, batch);
      }
      waiting.items.push(item);
      waiting.settle.push({ resolve, reject });
    });
}
