import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { EventKeys } from "./event-keys.ts";
import { execPipeline } from "./exec-pipeline.ts";
import type { HubEvent } from "./hub-event.ts";

/** What is kept per accepted event. */
export interface StoredEvent {
  event: HubEvent;
  /** ms since epoch, when it was accepted (202). */
  acceptedAt: number;
  /** Ties the record to the one outbox entry allowed to fan it out. */
  token: string;
  /** Fan-out limited to one subscription (the `kefu.ping` of a subscription test). */
  only?: string;
}

export interface OutboxEntry {
  streamId: string;
  stored: StoredEvent;
}

export interface EventStore {
  /**
   * Makes the event durable and queued for fan-out, or says it is a duplicate. The outbox entry
   * is written first and the record second, in one round trip (on a connection with
   * `enableAutoPipelining`): whichever crash happens, either
   * nothing was answered, or the entry exists and a fan-out worker will deliver it.
   */
  accept(event: HubEvent, only?: string): Promise<{ duplicate: boolean; stored: StoredEvent }>;
  get(id: string): Promise<StoredEvent | undefined>;
  /**
   * For each outbox entry, whether it owns its event record (one round trip in the usual case);
   * creates the record when the accepting process died before writing it.
   */
  claimMany(entries: readonly StoredEvent[]): Promise<boolean[]>;
  /** Replaces the event after enrichment, keeping the record's expiry. */
  update(stored: StoredEvent): Promise<void>;
}

export function createEventStore(redis: Redis, keys: EventKeys, dedupeSeconds: number): EventStore {
  const get = async (id: string): Promise<StoredEvent | undefined> => {
    const raw = await redis.get(keys.event(id));
    return raw ? (JSON.parse(raw) as StoredEvent) : undefined;
  };
  return {
    async accept(event, only) {
      const stored: StoredEvent = { event, acceptedAt: Date.now(), token: randomUUID(), ...(only ? { only } : {}) };
      const json = JSON.stringify(stored);
      // Two plain commands issued in the same tick, not an explicit pipeline: the connection's
      // auto-pipelining sends them in order, together with those of every other request of that
      // tick, in one socket write (a write per request was the ingest's largest cost).
      const [, set] = await Promise.all([redis.xadd(keys.outbox, "*", "e", json), redis.set(keys.event(event.id), json, "EX", dedupeSeconds, "NX")]);
      if (set === "OK") return { duplicate: false, stored };
      // A fan-out worker may have claimed our own entry between the two commands.
      const existing = await get(event.id);
      return existing?.token === stored.token ? { duplicate: false, stored } : { duplicate: true, stored: existing ?? stored };
    },
    get,
    async claimMany(entries) {
      const pipeline = redis.pipeline();
      for (const entry of entries) pipeline.get(keys.event(entry.event.id));
      const records = await execPipeline(pipeline);
      return Promise.all(
        entries.map(async (entry, index) => {
          const raw = records[index];
          if (typeof raw === "string") return (JSON.parse(raw) as StoredEvent).token === entry.token;
          const set = await redis.set(keys.event(entry.event.id), JSON.stringify(entry), "EX", dedupeSeconds, "NX");
          return set === "OK" || (await get(entry.event.id))?.token === entry.token;
        }),
      );
    },
    async update(stored) {
      await redis.set(keys.event(stored.event.id), JSON.stringify(stored), "KEEPTTL");
    },
  };
}
