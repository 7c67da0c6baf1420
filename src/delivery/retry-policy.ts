/** Failure of one attempt, as the worker hands it to the backoff strategy. */
export interface AttemptFailure {
  /** From a 429 or 503 `Retry-After`, in ms. */
  retryAfterMs?: number;
}

export interface RetryPolicy {
  /** Delays in ms before attempt 2, 3, …; its length is the number of retries. */
  readonly scheduleMs: readonly number[];
  /** Attempts in all: first try plus one per schedule item. */
  readonly attempts: number;
  /** Delay before the next attempt after `attemptsMade` failed ones (1-based). */
  delayMs(attemptsMade: number, failure?: AttemptFailure): number;
}

export interface RetryPolicyOptions {
  /** `5s,5m,30m,2h` (units ms, s, m, h). */
  schedule: string;
  /** Upper bound for a receiver's `Retry-After`. */
  retryAfterMaxMs: number;
  /** ±share of jitter. @defaultValue 0.2 */
  jitter?: number;
  /** Injectable randomness for tests. @defaultValue Math.random */
  random?: () => number;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `"5s,5m"` → `[5000, 300000]`. */
export function parseSchedule(schedule: string): number[] {
  return schedule.split(",").map((item) => {
    const match = /^\s*(\d+)(ms|s|m|h)\s*$/.exec(item);
    if (!match?.[1] || !match[2]) throw new Error(`bad retry schedule item "${item}" (use e.g. 5s, 5m, 2h)`);
    return Number(match[1]) * (UNIT_MS[match[2]] ?? 1);
  });
}

/**
 * Retry delays as data (svix's schedule): the schedule item ±20% jitter, or the receiver's
 * Retry-After when it asked for one, bounded so that a hostile receiver cannot park a delivery
 * for days.
 */
export function createRetryPolicy({ schedule, retryAfterMaxMs, jitter = 0.2, random = Math.random }: RetryPolicyOptions): RetryPolicy {
  const scheduleMs = parseSchedule(schedule);
  return {
    scheduleMs,
    attempts: scheduleMs.length + 1,
    delayMs(attemptsMade, failure) {
      if (failure?.retryAfterMs !== undefined) return Math.min(Math.max(failure.retryAfterMs, 0), retryAfterMaxMs);
      const base = scheduleMs[Math.min(Math.max(attemptsMade - 1, 0), scheduleMs.length - 1)] ?? 0;
      return Math.round(base * (1 - jitter + 2 * jitter * random()));
    },
  };
}

/** `Retry-After` as seconds or an HTTP date → ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
