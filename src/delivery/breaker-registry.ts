import CircuitBreaker from "opossum";
import type { WebhookResponse } from "./http-sender.ts";

export type BreakerState = "closed" | "open" | "half-open";

export interface BreakerOptions {
  resetMs: number;
  errorPercent: number;
  volumeThreshold: number;
}

export interface OriginBreakerState {
  origin: string;
  state: BreakerState;
}

export type BreakerResult = { kind: "sent"; response: WebhookResponse } | { kind: "open"; retryAtMs: number };

export interface BreakerRegistry {
  /** Runs `send` through the origin's breaker; while it is open, says until when to wait instead. */
  run(origin: string, send: () => Promise<WebhookResponse>): Promise<BreakerResult>;
  state(origin: string): BreakerState;
  /** Every origin's breaker in this process, for `kefu_breaker_state` (read when scraped). */
  list(): OriginBreakerState[];
  close(): void;
}

/** Wraps a failed response so that opossum counts it; unwrapped again by {@link BreakerRegistry.run}. */
class CountedFailure extends Error {
  override name = "CountedFailure";
  readonly response: WebhookResponse;
  constructor(response: WebhookResponse) {
    super(response.error ?? "failed");
    this.response = response;
  }
}

interface Entry {
  breaker: CircuitBreaker<[() => Promise<WebhookResponse>], WebhookResponse>;
  openedAt: number;
}

/**
 * One opossum breaker per receiver origin, in this process. Network errors, timeouts, 429 and 5xx
 * count against it; other answers are the receiver's decision and do not. While open, deliveries
 * to the origin are postponed to the reset time without using an attempt.
 */
export function createBreakerRegistry({ resetMs, errorPercent, volumeThreshold }: BreakerOptions): BreakerRegistry {
  const entries = new Map<string, Entry>();
  const entryOf = (origin: string): Entry => {
    let entry = entries.get(origin);
    if (entry) return entry;
    const breaker = new CircuitBreaker(
      async (send: () => Promise<WebhookResponse>) => {
        const response = await send();
        if (countsAsFailure(response)) throw new CountedFailure(response);
        return response;
      },
      {
        timeout: false,
        resetTimeout: resetMs,
        errorThresholdPercentage: errorPercent,
        volumeThreshold,
        rollingCountTimeout: 10_000,
        rollingCountBuckets: 10,
        // Only the open/closed decision is used. With percentiles on, opossum keeps every latency
        // of the 10 s window and, on each failure, concatenates and sorts them all to decide.
        rollingPercentilesEnabled: false,
      },
    );
    const created: Entry = { breaker, openedAt: 0 };
    breaker.on("open", () => {
      created.openedAt = Date.now();
    });
    entries.set(origin, created);
    entry = created;
    return entry;
  };

  return {
    async run(origin, send) {
      const entry = entryOf(origin);
      try {
        return { kind: "sent", response: await entry.breaker.fire(send) };
      } catch (error) {
        if (error instanceof CountedFailure) return { kind: "sent", response: error.response };
        if ((error as { code?: string }).code === "EOPENBREAKER") {
          // Half-open lets one trial through; the others wait a little for its verdict.
          const retryAtMs = entry.breaker.halfOpen ? Date.now() + Math.min(1000, resetMs) : Math.max(entry.openedAt + resetMs, Date.now() + 50);
          return { kind: "open", retryAtMs };
        }
        throw error;
      }
    },
    state(origin) {
      const entry = entries.get(origin);
      return entry ? stateOf(entry) : "closed";
    },
    list: () => [...entries].map(([origin, entry]) => ({ origin, state: stateOf(entry) })),
    close() {
      for (const entry of entries.values()) entry.breaker.shutdown();
      entries.clear();
    },
  };
}

function stateOf({ breaker }: Entry): BreakerState {
  if (breaker.opened) return "open";
  return breaker.halfOpen ? "half-open" : "closed";
}

function countsAsFailure(response: WebhookResponse): boolean {
  if (response.transportFailure) return true;
  const status = response.statusCode ?? 0;
  return status === 429 || status >= 500;
}
