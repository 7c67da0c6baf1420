import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { defineLuaCommand } from "../redis/lua-command.ts";

export interface Publication {
  channel: string;
  offset: number;
  /** The publication's `data` as JSON text (`{"kind": …}`), encoded once for every subscriber. */
  dataJson: string;
}

export interface PublishResult {
  offset: number;
  epoch: string;
  /** The idempotency id was published before: nothing new was stored, `offset` is the first one's. */
  duplicate: boolean;
}

export interface Replay {
  /** The channel's latest offset. */
  offset: number;
  epoch: string;
  /** False when the history no longer reaches back to `since` (the client refetches). */
  recovered: boolean;
  publications: Publication[];
}

export interface ChannelHistory {
  /** The pub/sub channel every publication is announced on (one per hub prefix). */
  readonly announcements: string;
  publish(channel: string, dataJson: string, options?: { idempotencyId?: string; volatile?: boolean }): Promise<PublishResult>;
  /** What came after `since` (undefined: nothing is replayed, only the position is answered). */
  replay(channel: string, since: number | undefined): Promise<Replay>;
  /** Newest first, offsets below `before`, at most `limit`. */
  page(channel: string, before: number | undefined, limit: number): Promise<Publication[]>;
}

export interface ChannelHistoryOptions {
  redis: Redis;
  prefix: string;
  /** Publications kept per channel. @defaultValue 1000 */
  size: number;
  /** Publications older than this are trimmed, and a channel's whole history after this long without one. @defaultValue 86400 */
  seconds: number;
  /** Stamps publications and decides what has expired (injected by tests). @defaultValue Date.now */
  now?: () => number;
}

interface HistoryCommands {
  kefuLivePublish(...args: (string | number)[]): Promise<[number, string, number]>;
}

/**
 * Each channel's publications in a Redis stream whose entry ids are `0-<offset>`, so that replay is
 * one XRANGE and offsets are one sequence per channel, whichever hub process published.
 */
export function createChannelHistory({ redis, prefix, size, seconds, now = Date.now }: ChannelHistoryOptions): ChannelHistory {
  defineLuaCommand(redis, "kefuLivePublish", new URL("./lua/publish.lua", import.meta.url), 4);
  const commands = redis as unknown as HistoryCommands;
  const key = (kind: string, channel: string): string => `${prefix}:live:${kind}:{${channel}}`;
  const announcements = `${prefix}:live:publications`;
  type Entry = [id: string, fields: string[]];
  const entries = (channel: string, raw: Entry[]): Publication[] =>
    raw.map(([id, fields]) => ({ channel, offset: Number(id.slice(2)), dataJson: fields[1] ?? "null" }));
  // Fields are `d <data> t <stamp>`. Publish trims expired entries only when the channel publishes
  // again, so reads leave out the expired run at the oldest end meanwhile (only that run: a clock
  // skewed between hubs must not cut a hole in the middle). An entry without a stamp is kept.
  const isFresh = (cutoff: number) => ([, fields]: Entry): boolean => fields[3] === undefined || Number(fields[3]) >= cutoff;
  const cutoff = (): number => now() - seconds * 1000;
  const unexpiredOldestFirst = (raw: Entry[]): Entry[] => {
    const first = raw.findIndex(isFresh(cutoff()));
    return first === -1 ? [] : raw.slice(first);
  };
  const unexpiredNewestFirst = (raw: Entry[]): Entry[] => raw.slice(0, raw.findLastIndex(isFresh(cutoff())) + 1);

  return {
    announcements,
    async publish(channel, dataJson, { idempotencyId = "", volatile = false } = {}) {
      const stamp = now();
      const [offset, epoch, duplicate] = await commands.kefuLivePublish(
        key("seq", channel), key("history", channel), key("ids", channel), key("epoch", channel),
        idempotencyId, dataJson, size, announcements, channel, randomUUID().slice(0, 8), seconds, volatile ? "1" : "0",
        stamp, stamp - seconds * 1000,
      );
      return { offset, epoch, duplicate: duplicate === 1 };
    },
    async replay(channel, since) {
      const [top, epoch] = await redis.mget(key("seq", channel), key("epoch", channel));
      const offset = Number(top ?? 0);
      if (since === undefined || since >= offset) return { offset, epoch: epoch ?? "", recovered: true, publications: [] };
      const raw = (await redis.xrange(key("history", channel), `(0-${since}`, "+", "COUNT", size)) as Entry[];
      const publications = entries(channel, unexpiredOldestFirst(raw));
      // Recovered only when nothing between `since` and the first kept entry was trimmed away.
      const recovered = publications[0]?.offset === since + 1;
      return { offset, epoch: epoch ?? "", recovered, publications: recovered ? publications : [] };
    },
    async page(channel, before, limit) {
      const raw = (await redis.xrevrange(key("history", channel), before === undefined ? "+" : `(0-${before}`, "-", "COUNT", limit)) as Entry[];
      return entries(channel, unexpiredNewestFirst(raw));
    },
  };
}
