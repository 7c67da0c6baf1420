import type { Redis } from "ioredis";
import { execPipeline } from "../redis/exec-pipeline.ts";
import type { DeliveryKeys } from "./delivery-keys.ts";

/**
 * Fixed one-second windows shared by every worker process: answers when the delivery may start,
 * or undefined when it may start now.
 */
export async function rateLimitDelay(redis: Redis, keys: DeliveryKeys, subscriptionId: string, perSecond: number, now = Date.now()): Promise<number | undefined> {
  const second = Math.floor(now / 1000);
  const key = keys.rate(subscriptionId, second);
  const [count = 0] = (await execPipeline(redis.pipeline().incr(key).expire(key, 2))) as [number, number];
  if (count <= perSecond) return undefined;
  // Spread the overflow over the next second rather than waking it all at its first millisecond.
  return (second + 1) * 1000 + Math.floor(Math.random() * 200);
}
