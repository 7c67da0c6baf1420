import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { createAnnouncedCache } from "../redis/announced-cache.ts";
import type { Subscription } from "./subscription.ts";
import type { SubscriptionStore } from "./subscription-store.ts";

/** What fan-out and delivery read on every event: subscriptions from memory. */
export interface SubscriptionReader {
  list(): Promise<Subscription[]>;
  get(id: string): Promise<Subscription | undefined>;
}

export interface SubscriptionCache extends SubscriptionReader {
  start(): Promise<void>;
  /** Drops the copy now (a write of this process); the next read loads the subscriptions again. */
  invalidate(): void;
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
 */
export function createSubscriptionCache({ store, subscriber, channel, logger, maxAgeMs = 5000 }: SubscriptionCacheOptions): SubscriptionCache {
  const load = async () => {
    const list = await store.list();
    return { byId: new Map(list.map((s) => [s.id, s])), list };
  };
  const cache = createAnnouncedCache({ load, subscriber, channel, logger, name: "subscription", maxAgeMs });
  return {
    invalidate: cache.invalidate,
    start: cache.start,
    async list() {
      return (await cache.current()).list;
    },
    async get(id) {
      return (await cache.current()).byId.get(id);
    },
  };
}
