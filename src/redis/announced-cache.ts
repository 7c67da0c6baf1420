import type { Redis } from "ioredis";
import type { Logger } from "pino";

/** A value loaded from Redis and kept in memory until any process announces a change of it. */
export interface AnnouncedCache<T> {
  /** The kept value, or a fresh load when there is none, it is older than `maxAgeMs` or a change was announced. */
  current: () => Promise<T>;
  /** Drops the copy now (e.g. a write of this process); the next read loads again. */
  invalidate: () => void;
  /** Subscribes to the change channel. */
  start: () => Promise<void>;
}

export interface AnnouncedCacheOptions<T> {
  load: () => Promise<T>;
  /** A connection of its own, in subscriber mode. */
  subscriber: Redis;
  /** The pub/sub channel every write of the value is announced on. */
  channel: string;
  logger: Logger;
  /** What the value is, for the log. */
  name: string;
  /** Reloaded at least this often, in case an announcement was missed. @defaultValue 5000 */
  maxAgeMs?: number;
}

/**
 * Configuration read on every request (subscriptions, inbound sources) without a Redis round
 * trip: a change reaches every process within a pub/sub hop, long before a request that follows
 * it has gone through ingest. Concurrent reads share one load.
 */
export function createAnnouncedCache<T>({ load, subscriber, channel, logger, name, maxAgeMs = 5000 }: AnnouncedCacheOptions<T>): AnnouncedCache<T> {
  let loaded: { at: number; value: T } | undefined;
  let loading: Promise<T> | undefined;
  let generation = 0;

  const invalidate = (): void => {
    generation++;
    loaded = undefined;
  };

  return {
    invalidate,
    current() {
      if (loaded && Date.now() - loaded.at < maxAgeMs) return Promise.resolve(loaded.value);
      if (!loading) {
        const started = generation;
        loading = load()
          .then((value) => {
            // A change announced while loading may be missing from what was read: use it once, keep nothing.
            if (started === generation) loaded = { at: Date.now(), value };
            return value;
          })
          .finally(() => (loading = undefined));
      }
      return loading;
    },
    async start() {
      subscriber.on("message", (received: string) => {
        if (received === channel) invalidate();
      });
      // After a reconnect ioredis resubscribes, but what was announced meanwhile is lost.
      subscriber.on("ready", invalidate);
      subscriber.on("error", (error: Error) => logger.warn({ err: error }, `${name} change feed error`));
      await subscriber.subscribe(channel);
    },
  };
}
