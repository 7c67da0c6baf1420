export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The value at percentile `p` (0–100) of an ascending array; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/**
 * Sends items `first … first + count - 1` at `rate` per second without waiting for the answers
 * (an open-loop load: a slow answer does not slow the sending); returns the send time of each.
 */
export async function paced(first: number, count: number, rate: number, send: (i: number) => Promise<unknown>): Promise<number[]> {
  const started = performance.now();
  const sentAt: number[] = [];
  const pending: Promise<unknown>[] = [];
  for (let k = 0; k < count; k++) {
    const wait = started + (k * 1000) / rate - performance.now();
    // setTimeout's granularity is ~1 ms: shorter waits send at once, which keeps the mean rate.
    if (wait > 1) await sleep(wait);
    sentAt[k] = performance.now();
    pending.push(send(first + k));
  }
  await Promise.all(pending);
  return sentAt;
}

/**
 * Sends items `first … first + count - 1` from `clients` loops, each waiting for its answer before
 * its next send. Loop `c` sends the items i ≡ c (mod clients), in ascending order, so that the
 * items of one key `i % keys` (keys a multiple of clients) are always posted by one loop, one after
 * another: their order is then well defined and an ordered delivery can be checked against it.
 */
export async function burst(first: number, count: number, clients: number, send: (i: number) => Promise<unknown>): Promise<void> {
  const end = first + count;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const start = first + ((((c - first) % clients) + clients) % clients);
      for (let i = start; i < end; i += clients) await send(i);
    }),
  );
}
