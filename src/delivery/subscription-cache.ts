import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Subscription } from "./subscription.ts";
import type { SubscriptionStore } from "./subscription-store.ts";

/** What fan-out and delivery read on every event: subscriptions from memory. */
export interface SubscriptionReader {
  list(): Promise<Subscription[]>;
  get(id: string): Promise<Subscription | undefined>;
}

export interface SubscriptionCache extends SubscriptionReader {
  start(): Promise<void>;
}

export interface SubscriptionCacheOptions {
  store: SubscriptionStore;
  /** A connection of its own, in subscriber mode. */
  subscriber: Redis;
  /** Pub/sub channel every subscription write is announced on. */
  channel: string;
  logger: Logger;
  /** Reloaded at least this often, in case an announcement was missed (e.g. during a reconnect). @defaultValue 5000 */
  maxAgeMs?: number;
}

/**
 * Subscriptions kept in memory and dropped when any process announces a change (the store
 * publishes after each write), so that the delivery path makes no Redis round trip for them.
 * A change reaches every process within a pub/sub hop, long before an event posted after the
 * change has gone through ingest and the queue.
 */
export function createSubscriptionCache({ store, subscriber, channel, logger, maxAgeMs = 5000 }: SubscriptionCacheOptions): SubscriptionCache {
  let loaded: { at: number; byId: Map<string, Subscription>; list: Subscription[] } | undefined;
  let loading: Promise<NonNullable<typeof loaded>> | undefined;
  let generation = 0;

  const current = async (): Promise<NonNullable<typeof loaded>> => {
    if (loaded && Date.now() - loaded.at < maxAgeMs) return loaded;
    if (!loading) {
      const started = generation;
      loading = store
        .list()
        .then((list) => {
          const fresh = { at: Date.now(), byId: new Map(list.map((s) => [s.id, s])), list };
          // A change announced while loading may not be in what was read: use it once, keep nothing.
          if (started === generation) loaded = fresh;
          return fresh;
        })
        .finally(() => (loading = undefined));
    }
    return loading;
  };

  return {
    async start() {
      subscriber.on("message", (received: string) => {
        if (received !== channel) return;
        generation++;
        loaded = undefined;
      });
      subscriber.on("error", (error: Error) => logger.warn({ err: error }, "subscription change feed error"));
      await subscriber.subscribe(channel);
    },
    async list() {
      return (await current()).list;
    },
    async get(id) {
      return (await current()).byId.get(id);
    },
  };
}
