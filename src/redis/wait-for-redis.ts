import type { Redis } from "ioredis";
import type { Logger } from "pino";

/**
 * Resolves once Redis answers PING, however long that takes (Redis may start after the hub, as in
 * docker compose). The connection must have `maxRetriesPerRequest: null` so that the PING waits
 * through reconnects instead of failing.
 */
export async function waitForRedis(probe: Redis, logger: Logger, logEveryMs = 5000): Promise<void> {
  const started = Date.now();
  const nag = setInterval(() => {
    logger.warn({ waitedMs: Date.now() - started }, "waiting for Redis to answer");
  }, logEveryMs);
  try {
    await probe.ping();
  } finally {
    clearInterval(nag);
  }
}
