/**
 * Bounded waits of one length that share one timer. A wait of its own per call (a setTimeout, a
 * clearTimeout and a Promise.race) costs ~2 µs, and the delivery path bounds two waits per event
 * with it (the 202's wait for the hand-off, the queue add): measured in bench/delivery.ts.
 */
export interface SharedWait {
  /**
   * `promise`'s outcome, or `late()`'s once the wait's length passed first (the promise itself
   * keeps running). A wait ends between its length and a twentieth more.
   */
  within<T, L>(promise: Promise<T>, late: () => L): Promise<T | L>;
}

interface Pending {
  endsAt: number;
  /** Cleared once the promise settled, so that a finished wait holds nothing until it expires. */
  expire: (() => void) | undefined;
}

export function createSharedWait(ms: number, now: () => number = Date.now): SharedWait {
  // Every wait has the same length, so they end in the order they began: a queue, oldest first.
  let queue: Pending[] = [];
  let head = 0;
  let timer: NodeJS.Timeout | undefined;
  // The timer wakes at most this often however many waits are queued.
  const resolutionMs = Math.max(1, Math.ceil(ms / 20));

  const expireDue = (): void => {
    timer = undefined;
    const at = now();
    while (head < queue.length && (queue[head] as Pending).endsAt <= at) {
      const pending = queue[head++] as Pending;
      pending.expire?.();
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    arm();
  };
  const arm = (): void => {
    if (timer || head >= queue.length) return;
    // Unref'd: what is waited for (a socket, a queue) keeps the process alive while it matters.
    timer = setTimeout(expireDue, Math.max(resolutionMs, (queue[head] as Pending).endsAt - now()));
    timer.unref();
  };

  return {
    within(promise, late) {
      return new Promise((resolve, reject) => {
        const pending: Pending = {
          endsAt: now() + ms,
          expire: () => {
            pending.expire = undefined;
            try {
              resolve(late());
            } catch (error) {
              reject(asError(error));
            }
          },
        };
        queue.push(pending);
        arm();
        promise.then(
          (value) => {
            pending.expire = undefined;
            resolve(value);
          },
          (error: unknown) => {
            pending.expire = undefined;
            reject(asError(error));
          },
        );
      });
    },
  };
}

/** An Error as it is; anything else thrown or rejected, wrapped (the callers' promises reject with Errors). */
function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
