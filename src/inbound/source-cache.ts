import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { createAnnouncedCache } from "../redis/announced-cache.ts";
import type { InboundSource } from "./inbound-source.ts";
import type { SourceStore } from "./source-store.ts";

export interface SourceCache {
  get: (name: string) => Promise<InboundSource | undefined>;
  /** Subscribes to the change channel. */
  start(): Promise<void>;
  /** Drops the copy now (a write of this process). */
  invalidate: () => void;
}

export interface SourceCacheOptions {
  store: SourceStore;
  /** A connection of its own, in subscriber mode. */
  subscriber: Redis;
  channel: string;
  logger: Logger;
  /** Reloaded at least this often, in case an announcement was missed (a reconnect). @defaultValue 5000 */
  maxAgeMs?: number;
}

/**
 * The sources in memory, dropped when any instance announces a write, so that POST
 * /v1/inbound/{source} makes no Redis round trip for its configuration and every instance
 * follows a change within a pub/sub hop (src/redis/announced-cache.ts).
 */
export function createSourceCache({ store, subscriber, channel, logger, maxAgeMs = 5000 }: SourceCacheOptions): SourceCache {
  const load = async () => new Map((await store.list()).map((source) => [source.name, source]));
  const cache = createAnnouncedCache({ load, subscriber, channel, logger, name: "inbound source", maxAgeMs });
  return {
    invalidate: cache.invalidate,
    start: cache.start,
    async get(name) {
      return (await cache.current()).get(name);
    },
  };
}
