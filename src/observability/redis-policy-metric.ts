import type { Redis } from "ioredis";
import { Gauge, type Registry } from "prom-client";

export interface RedisPolicyMetricOptions {
  /** How often to read the policy again (an operator may `CONFIG SET` it at any time). @defaultValue 60000 */
  intervalMs?: number;
}

export interface RedisPolicyMetric {
  /** Stops the periodic read; idempotent. */
  close(): Promise<void>;
}

/** What the gauge says when Redis refuses CONFIG (managed Redis often renames or disables it). */
export const UNKNOWN_POLICY = "unknown";

/**
 * `kefu_redis_maxmemory_policy{policy}` = 1 for the policy Redis runs with, so that an alert can
 * say "not noeviction" (BullMQ loses queued deliveries when Redis may evict). Read at start and
 * every `intervalMs`, never on a scrape: a scrape must not cost a Redis round trip, and the
 * policy changes rarely. `unknown` when CONFIG is refused: the alert fires then too, on purpose,
 * because nobody can tell that deliveries are safe (`kefu-hub doctor` says what to check).
 */
export function createRedisPolicyMetric(registry: Registry, redis: Redis, { intervalMs = 60_000 }: RedisPolicyMetricOptions = {}): RedisPolicyMetric {
  const gauge = new Gauge({
    name: "kefu_redis_maxmemory_policy",
    help: "Redis maxmemory-policy the hub's Redis runs with (1 for the current one; 'unknown' when CONFIG GET is refused). BullMQ needs noeviction",
    labelNames: ["policy"] as const,
    registers: [registry],
  });
  const read = async (): Promise<void> => {
    let policy = UNKNOWN_POLICY;
    try {
      const reply = await redis.config("GET", "maxmemory-policy");
      policy = reply[1] ?? UNKNOWN_POLICY;
    } catch {
      // Refused or Redis down: "unknown" until the next read succeeds.
    }
    gauge.reset();
    gauge.set({ policy }, 1);
  };
  const pending = read();
  const timer = setInterval(() => void read(), intervalMs);
  // Never the reason the process stays alive.
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
      await pending;
    },
  };
}
