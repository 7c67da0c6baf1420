import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { EventKeys } from "./event-keys.ts";
import { OUTBOX_GROUP } from "./event-keys.ts";
import type { EventStore, StoredEvent } from "./event-store.ts";
import type { EventEnricher, HubEvent } from "./hub-event.ts";

export interface OutboxConsumerOptions {
  /** For XREADGROUP BLOCK; this connection is used by nothing else. */
  blocking: Redis;
  redis: Redis;
  keys: EventKeys;
  store: EventStore;
  enrichers: readonly EventEnricher[];
  /** Turns stored events into delivery jobs; must be idempotent (it runs again after a crash). */
  fanOut: (events: readonly StoredEvent[]) => Promise<unknown>;
  /** Entries unacknowledged for this long are taken over from the process that read them. */
  claimMs: number;
  logger: Logger;
  /** Entries per read. @defaultValue 200 */
  batchSize?: number;
  /** Batches fanned out at once. @defaultValue 4 */
  maxInFlight?: number;
}

export interface OutboxConsumer {
  start(): Promise<void>;
  close(): Promise<void>;
}

interface RawEntry {
  streamId: string;
  json: string | undefined;
}

/**
 * Drains the outbox stream through a consumer group: read, enrich, fan out, then acknowledge and
 * delete. A process that dies leaves its entries pending; XAUTOCLAIM hands them to a live one
 * after `claimMs`, and job ids `{eventId}.{subscriptionId}` keep the redone fan-out from doubling.
 */
export function createOutboxConsumer(options: OutboxConsumerOptions): OutboxConsumer {
  const { blocking, redis, keys, store, enrichers, fanOut, claimMs, logger, batchSize = 200, maxInFlight = 4 } = options;
  const consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  let running = false;
  let loop: Promise<void> | undefined;
  let nextClaimAt = 0;

  const enrich = async (event: HubEvent): Promise<HubEvent> => {
    let current = event;
    for (const enricher of enrichers) {
      try {
        current = await enricher(current);
      } catch (error) {
        // The event is delivered as it was rather than lost (lead's contract 1).
        logger.error({ err: error, eventId: event.id, type: event.type }, "event enricher failed; delivering the event without its change");
      }
    }
    return current;
  };

  const handle = async (entries: RawEntry[]): Promise<void> => {
    const parsed = entries.flatMap(({ json }) => (json ? [JSON.parse(json) as StoredEvent] : []));
    const owners = await store.claimMany(parsed);
    const owned = await Promise.all(
      parsed
        .filter((_, index) => owners[index])
        .map(async (stored) => {
          const event = await enrich(stored.event);
          if (event === stored.event) return stored;
          const enriched = { ...stored, event };
          await store.update(enriched);
          return enriched;
        }),
    );
    if (owned.length > 0) await fanOut(owned);
    const ids = entries.map((entry) => entry.streamId);
    await redis.pipeline().xack(keys.outbox, OUTBOX_GROUP, ...ids).xdel(keys.outbox, ...ids).exec();
  };

  // Batches are fanned out concurrently (up to maxInFlight) so that one slow enrichment or Redis
  // round trip does not hold the next read; a failed batch stays pending and is reclaimed.
  const inFlight = new Set<Promise<void>>();
  const dispatch = async (entries: RawEntry[]): Promise<void> => {
    if (entries.length === 0) return;
    const work: Promise<void> = handle(entries)
      .catch((error: unknown) => logger.error({ err: error, entries: entries.length }, "outbox fan-out failed; the entries will be retried after eventsOutboxClaimMs"))
      .finally(() => inFlight.delete(work));
    inFlight.add(work);
    if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
  };

  const readOnce = async (): Promise<void> => {
    if (Date.now() >= nextClaimAt) {
      nextClaimAt = Date.now() + Math.max(100, claimMs / 2);
      const claimed = (await redis.xautoclaim(keys.outbox, OUTBOX_GROUP, consumer, claimMs, "0-0", "COUNT", batchSize)) as [string, [string, string[]][]];
      const entries = toEntries(claimed[1]);
      if (entries.length > 0) {
        logger.warn({ entries: entries.length }, "took over outbox entries of a process that stopped");
        await dispatch(entries);
      }
    }
    const blockMs = Math.max(50, Math.min(2000, Math.floor(claimMs / 2)));
    const read = (await blocking.xreadgroup("GROUP", OUTBOX_GROUP, consumer, "COUNT", batchSize, "BLOCK", blockMs, "STREAMS", keys.outbox, ">")) as
      | [string, [string, string[]][]][]
      | null;
    await dispatch(toEntries(read?.[0]?.[1] ?? []));
  };

  const ensureGroup = async (): Promise<void> => {
    try {
      await redis.xgroup("CREATE", keys.outbox, OUTBOX_GROUP, "0", "MKSTREAM");
    } catch (error) {
      if (!String((error as Error).message).includes("BUSYGROUP")) throw error;
    }
  };

  const run = async (): Promise<void> => {
    let grouped = false;
    while (running) {
      try {
        if (!grouped) {
          await ensureGroup();
          grouped = true;
        }
        await readOnce();
      } catch (error) {
        if (!running) return;
        logger.error({ err: error }, "outbox fan-out failed; retrying in 1s (entries stay pending)");
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  };

  return {
    /** Starts the loop and returns at once: an unreachable Redis must not hold the hub's start. */
    async start() {
      running = true;
      loop = run();
    },
    async close() {
      if (!running) return;
      running = false;
      // Wakes the blocked read; a batch being fanned out finishes first (await loop).
      blocking.disconnect();
      // Without Redis the loop's pending command only fails after ioredis's retries; it ends by
      // itself then (running is false), and nothing it could still do matters.
      if (redis.status !== "ready") return;
      await loop;
      await Promise.allSettled([...inFlight]);
    },
  };
}

function toEntries(raw: [string, string[]][] | null | undefined): RawEntry[] {
  return (raw ?? []).flatMap((item) => {
    if (!item) return []; // XAUTOCLAIM answers null for entries deleted meanwhile
    const [streamId, fields] = item;
    const at = fields.indexOf("e");
    return [{ streamId, json: at >= 0 ? fields[at + 1] : undefined }];
  });
}
