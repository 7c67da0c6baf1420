import type { Redis } from "ioredis";
import type { Logger } from "pino";

/**
 * A 202 means "stored in Redis"; across a restart of Redis that holds only for what Redis
 * persisted. Without AOF, a Redis restart loses everything written since the last RDB snapshot
 * (or everything, with no snapshots): say so at start, naming the setting.
 */
export async function checkAppendOnly(redis: Redis, logger: Logger): Promise<string | undefined> {
  let appendOnly: string | undefined;
  try {
    const reply = await redis.config("GET", "appendonly");
    appendOnly = reply[1];
  } catch (error) {
    logger.warn({ err: error }, "could not read Redis appendonly (CONFIG is disabled?); make sure AOF is on (appendonly yes)");
    return undefined;
  }
  if (appendOnly !== "yes") {
    logger.warn(
      { appendonly: appendOnly },
      `Redis runs without AOF (appendonly ${appendOnly ?? "unknown"}): events answered 202 and queued webhook ` +
        "deliveries written since the last snapshot are lost if Redis restarts. Set `appendonly yes` in " +
        "redis.conf (or `CONFIG SET appendonly yes`; `appendfsync always` to lose nothing).",
    );
  }
  return appendOnly;
}
