import type { Redis } from "ioredis";
import { execPipeline } from "../redis/exec-pipeline.ts";
import type { HubEvent } from "../events/hub-event.ts";

/** The last routed events, kept in Redis for `simulate` ("what would this change have done today?"). */
export interface RecentEvents {
  /** Fire-and-forget: a failure is logged by the caller's handler, never thrown into ingestion. */
  record(event: HubEvent): Promise<void>;
  /** Newest first. */
  list(limit: number): Promise<HubEvent[]>;
}

export function createRecentEvents(redis: Redis, prefix: string, keep: number): RecentEvents {
  const key = `${prefix}:routing:recent`;
  return {
    async record(event) {
      const { routing: _routing, ...plain } = event;
      await execPipeline(redis.multi().lpush(key, JSON.stringify(plain)).ltrim(key, 0, keep - 1));
    },
    async list(limit) {
      const lines = await redis.lrange(key, 0, Math.min(limit, keep) - 1);
      return lines.map((line) => JSON.parse(line) as HubEvent);
    },
  };
}
