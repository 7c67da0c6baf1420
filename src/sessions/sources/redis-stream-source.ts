import { hostname } from "node:os";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { BehaviorSink, BehaviorSource } from "../behavior-source.ts";

export interface RedisStreamSourceOptions {
  /** A connection of its own: XREADGROUP blocks it. */
  redis: Redis;
  /**
   * The connection XACK goes out on. While a batch is applied the next read already waits on
   * `redis`, and an XACK sent behind it would wait as long. @defaultValue `redis`
   */
  acks?: Redis;
  /** The stream key (KEFU_BEHAVIOR_REDIS_STREAM); each entry's field `event` holds the JSON. */
  stream: string;
  /** @defaultValue "kefu-hub-sessions" */
  group?: string;
  /** Unique per process. @defaultValue `${hostname}-${pid}` */
  consumer?: string;
  /** Entries per read. @defaultValue 500 */
  batchSize?: number;
  /**
   * Batches handed to the sink and not yet settled, at most: the next batch is read (and applied,
   * session by session after the previous batch's change of it) while one is being written.
   * 1 reads only once the previous batch is acknowledged. @defaultValue 2 with `acks`, else 1 (an
   * XACK on `redis` would wait behind the next read)
   */
  batchesInFlight?: number;
  /** How long a read waits for new entries. @defaultValue 1000 */
  blockMs?: number;
  /** Entries another consumer left unacknowledged this long are taken over (it died). @defaultValue 30000 */
  claimIdleMs?: number;
  /** Wait after a failed read or a rejected batch, doubling up to 10 s. @defaultValue 200 */
  backoffMs?: number;
  logger: Logger;
}

type Entries = [id: string, fields: string[]][];

/**
 * A Redis Streams consumer group: entries are acknowledged (XACK) only after the sink made their
 * effect durable. What a crashed consumer left pending is read again: its own pending entries by
 * the same consumer name, another's by XAUTOCLAIM once idle for `claimIdleMs`. The next batch is
 * read as soon as one is handed to the sink (up to `batchesInFlight` unsettled), so that an entry
 * does not wait for the previous batch's write and then a read of its own.
 */
export function createRedisStreamSource(options: RedisStreamSourceOptions): BehaviorSource {
  const { redis, acks = redis, stream, group = "kefu-hub-sessions", consumer = `${hostname()}-${process.pid}`, batchSize = 500, batchesInFlight = acks === redis ? 1 : 2, blockMs = 1000, claimIdleMs = 30_000, backoffMs = 200, logger } = options;
  let state = "starting";
  let stopped = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const ensureGroup = async (): Promise<void> => {
    try {
      await redis.xgroup("CREATE", stream, group, "0", "MKSTREAM");
    } catch (error) {
      if (!String((error as Error).message).includes("BUSYGROUP")) throw error;
    }
  };

  const eventsOf = (entries: Entries): string[] => entries.map(([, fields]) => fields[fields.indexOf("event") + 1] ?? "");

  let acked: Promise<void> = Promise.resolve();
  // Not awaited: the next read goes out right behind it (on `redis` its reply is in before the
  // read's), and a lost XACK only means a redelivery, which applies nothing twice.
  const acknowledge = (entries: Entries): Promise<void> =>
    acks.xack(stream, group, ...entries.map(([id]) => id)).then(
      () => undefined,
      (error: unknown) => logger.warn({ err: error, stream }, "behaviour stream: XACK failed; the entries are redelivered and found applied"),
    );

  /** Hands the entries to the sink; once their effect is durable, acknowledges them. */
  const handle = async (sink: BehaviorSink, entries: Entries): Promise<void> => {
    if (entries.length === 0) return;
    await sink(eventsOf(entries));
    const previous = acked;
    const acknowledged = acknowledge(entries);
    acked = previous.then(() => acknowledged);
  };

  // Batches read and handed to the sink, not yet settled; the first failure among them, which
  // the loop rethrows (after all of them settled) to back off and read what is pending again.
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const handOver = (sink: BehaviorSink, entries: Entries): void => {
    const handled: Promise<void> = handle(sink, entries).then(
      () => void inFlight.delete(handled),
      (error: unknown) => {
        inFlight.delete(handled);
        failure ??= { error };
      },
    );
    inFlight.add(handled);
  };
  const settleInFlight = async (): Promise<void> => {
    while (inFlight.size > 0) await Promise.all(inFlight);
  };
  const throwFailure = (): void => {
    const failed = failure;
    failure = undefined;
    if (failed) throw failed.error;
  };

  const read = async (id: string, block: boolean): Promise<Entries> => {
    const reply = block
      ? await redis.xreadgroup("GROUP", group, consumer, "COUNT", batchSize, "BLOCK", blockMs, "STREAMS", stream, id)
      : await redis.xreadgroup("GROUP", group, consumer, "COUNT", batchSize, "STREAMS", stream, id);
    const entries = ((reply as [string, Entries][] | null)?.[0]?.[1] ?? []);
    // A deleted entry still pending comes back with null fields: acknowledged with nothing to apply.
    return entries.map(([entryId, fields]) => [entryId, fields ?? []]);
  };

  // What a dead consumer left is looked for this often, not on every read: each look is a round
  // trip on the path of every batch.
  const claimEveryMs = Math.min(1000, Math.max(1, Math.floor(claimIdleMs / 2)));

  const run = async (sink: BehaviorSink): Promise<void> => {
    let wait = backoffMs;
    let catchUp = true;
    let claimCursor = "0-0";
    let claimedAt = 0;
    while (!stopped) {
      try {
        if (catchUp) {
          await settleInFlight();
          throwFailure();
          // After a start or a failure: the group may be missing, and this consumer's own
          // unacknowledged entries (a restart with the same name) come first.
          await ensureGroup();
          state = "ok";
          const pending = await read("0", false);
          await handle(sink, pending);
          // Read from "0" again only once these are acknowledged (XACK may be on another connection).
          await acked;
          catchUp = pending.length === batchSize;
        }
        if (performance.now() - claimedAt >= claimEveryMs) {
          claimedAt = performance.now();
          const [next, claimed] = (await redis.call("XAUTOCLAIM", stream, group, consumer, claimIdleMs, claimCursor, "COUNT", batchSize)) as [string, Entries, unknown];
          claimCursor = next;
          await handle(sink, claimed.filter(([, fields]) => fields !== null));
        }
        while (inFlight.size >= batchesInFlight) await Promise.race(inFlight);
        throwFailure();
        const entries = await read(">", true);
        if (acks === redis) await acked;
        throwFailure();
        if (entries.length > 0) handOver(sink, entries);
        wait = backoffMs;
      } catch (error) {
        await settleInFlight();
        failure = undefined;
        if (stopped) return;
        state = `redis stream ${stream}: ${(error as Error).message}`;
        logger.warn({ err: error, stream }, "behaviour stream: read or apply failed; retrying after a backoff");
        catchUp = true;
        await pause(wait);
        wait = Math.min(wait * 2, 10_000);
      }
    }
    await settleInFlight();
    await acked;
  };

  return {
    name: "redis-stream",
    start(sink) {
      loop ??= run(sink);
      return Promise.resolve();
    },
    status: () => state,
    async close() {
      stopped = true;
      wake?.();
      // The blocked read ends within blockMs; the connection is closed by the hub afterwards.
      await loop;
    },
  };
}
