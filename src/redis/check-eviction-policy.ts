import type { Redis } from "ioredis";
import type { Logger } from "pino";

/** BullMQ loses jobs when Redis may evict keys: say so loudly at start. */
export async function checkEvictionPolicy(redis: Redis, logger: Logger): Promise<string | undefined> {
  let policy: string | undefined;
  try {
    const reply = await redis.config("GET", "maxmemory-policy");
    policy = reply[1];
  } catch (error) {
    logger.warn({ err: error }, "could not read Redis maxmemory-policy (CONFIG is disabled?); make sure it is noeviction");
    return undefined;
  }
  if (policy !== "noeviction") {
    logger.warn(
      { maxmemoryPolicy: policy },
      `!!! Redis maxmemory-policy is "${policy}", not "noeviction": under memory pressure Redis will delete ` +
        "queued webhook deliveries and routing data. Set `maxmemory-policy noeviction` in redis.conf " +
        "(or `CONFIG SET maxmemory-policy noeviction`).",
    );
  }
  return policy;
}
