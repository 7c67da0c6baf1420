/** The outcome of waiting for a promise at most some time; the promise itself keeps running. */
export type Settled<T> =
  | { status: "fulfilled"; value: T }
  | { status: "rejected"; reason: unknown }
  | { status: "timeout" };

/**
 * Waits for `promise` at most `ms` milliseconds without cancelling it: the caller decides what a
 * late result is good for (the order context lets it fill the cache). The timer is cleared as soon
 * as the promise settles, so that nothing keeps the process alive.
 */
export function settleWithin<T>(promise: Promise<T>, ms: number): Promise<Settled<T>> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ status: "timeout" }), Math.max(0, ms));
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve({ status: "fulfilled", value });
      },
      (reason: unknown) => {
        clearTimeout(timer);
        resolve({ status: "rejected", reason });
      },
    );
  });
}

/** A point in time that several steps share; each asks how much is left. */
export interface Deadline {
  readonly startedAt: number;
  remainingMs(): number;
  elapsedMs(): number;
}

export function createDeadline(totalMs: number, now: () => number = Date.now): Deadline {
  const startedAt = now();
  return {
    startedAt,
    remainingMs: () => Math.max(0, startedAt + totalMs - now()),
    elapsedMs: () => now() - startedAt,
  };
}
