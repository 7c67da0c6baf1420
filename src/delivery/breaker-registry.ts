import type { BreakerStateMetric } from "../observability/breaker-state-metric.ts";
import { isBreakerOpenError } from "../resilience/breaker-errors.ts";
import { createBreakerRegistry, type BreakerSettings, type BreakerState } from "../resilience/breaker-registry.ts";
import type { WebhookResponse } from "./http-sender.ts";

export interface OriginBreakerState {
  origin: string;
  state: BreakerState;
}

export type BreakerResult = { kind: "sent"; response: WebhookResponse } | { kind: "open"; retryAtMs: number };

/** The circuit breakers of the receiver origins (scheme + host + port) in this process. */
export interface OriginBreakers {
  /** Runs `send` through the origin's breaker; while it is open, says until when to wait instead. */
  run(origin: string, send: () => Promise<WebhookResponse>): Promise<BreakerResult>;
  state(origin: string): BreakerState;
  /** Every origin's breaker kept in this process (it is also what `kefu_breaker_state` shows). */
  list(): OriginBreakerState[];
  close(): void;
}

/** The name delivery-processor.ts and subscription-service.ts know the origin breakers by. */
export type BreakerRegistry = OriginBreakers;

export interface OriginBreakersOptions {
  /** Thresholds (`KEFU_DELIVERY_BREAKER_*`). @defaultValue the registry's defaults, field by field */
  settings?: Partial<BreakerSettings>;
  /**
   * Origins whose breaker is kept (`KEFU_DELIVERY_MAX_ORIGINS`); past it the least recently used
   * origin's breaker is shut down and forgotten. @defaultValue 1000
   */
  maxOrigins?: number;
  /** An origin not delivered to for this long is forgotten (see the registry's `idleMs`). @defaultValue 600000 */
  idleMs?: number;
  /** `kefu_breaker_state`: the origins report labelled `origin`; none when omitted. */
  metric?: BreakerStateMetric;
  onStateChange?: (origin: string, state: BreakerState) => void;
  /** @defaultValue Date.now */
  now?: () => number;
}

/**
 * One breaker per receiver origin. Network errors, timeouts, 429 and 5xx count against it (the
 * response is still returned: the delivery records it); other answers are the receiver's decision
 * and do not. While open, deliveries to the origin are postponed to about its probe time without
 * using an attempt.
 */
export function createOriginBreakers(options: OriginBreakersOptions = {}): OriginBreakers {
  const { settings, maxOrigins, idleMs, metric, onStateChange, now } = options;
  const breakers = createBreakerRegistry<string>({
    ...(settings ? { settings } : {}),
    ...(maxOrigins !== undefined ? { maxBreakers: maxOrigins } : {}),
    ...(idleMs !== undefined ? { idleMs } : {}),
    ...(metric ? { metric: { gauge: metric, labels: (origin: string) => ({ origin }) } } : {}),
    ...(onStateChange ? { onStateChange } : {}),
    ...(now ? { now } : {}),
  });
  return {
    async run(origin, send) {
      try {
        return { kind: "sent", response: await breakers.fire(origin, send, { isFailure: countsAsFailure }) };
      } catch (error) {
        if (isBreakerOpenError(error)) return { kind: "open", retryAtMs: error.retryAtMs };
        throw error;
      }
    },
    state: (origin) => breakers.state(origin),
    list: () => breakers.list().map(({ key, state }) => ({ origin: key, state })),
    close: () => breakers.close(),
  };
}

function countsAsFailure(response: WebhookResponse): boolean {
  if (response.transportFailure) return true;
  const status = response.statusCode ?? 0;
  return status === 429 || status >= 500;
}
