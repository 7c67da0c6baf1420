import { Redis } from "ioredis";

/**
 * Deletes every key that starts with `prefix`, and BullMQ's hash-tagged `{prefix...}` ones, with
 * SCAN + UNLINK (never FLUSHALL: the Redis is shared). Used by tests and benchmarks to clean up.
 */
export async function deleteKeysAt(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    for (const pattern of [`${prefix}*`, `{${prefix}*`]) {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== "0");
    }
  } finally {
    await redis.quit();
  }
}
