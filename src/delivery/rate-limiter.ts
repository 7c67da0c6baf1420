import type { Redis } from "ioredis";
import type { DeliveryKeys } from "./delivery-keys.ts";

/**
 * Fixed one-second windows shared by every worker process: answers when the delivery may start,
 * or undefined when it may start now.
 */
export async function rateLimitDelay(redis: Redis, keys: DeliveryKeys, subscriptionId: string, perSecond: number, now = Date.now()): Promise<number | undefined> {
  const second = Math.floor(now / 1000);
  const key = keys.rate(subscriptionId, second);
  const [[, count] = [null, 0]] = ((await redis.pipeline().incr(key).expire(key, 2).exec()) ?? []) as [Error | null, number][];
  if (count <= perSecond) return undefined;
  // Spread the overflow over the next second rather than waking it all at its first millisecond.
  return (second + 1) * 1000 + Math.floor(Math.random() * 200);
}
