import type { Redis } from "ioredis";

export interface BehaviorDeadLetter {
  /** The stream entry id (time-ordered). */
  id: string;
  source: string;
  reason: string;
  /** The item as received, cut at 4 KB. */
  raw: string;
  receivedAt: string;
}

export interface BehaviorDeadLetters {
  add(items: readonly Omit<BehaviorDeadLetter, "id" | "receivedAt">[]): Promise<void>;
  /** Newest first. */
  list(limit: number, before?: string): Promise<{ items: BehaviorDeadLetter[]; nextCursor?: string }>;
}

const RAW_LIMIT = 4096;

/** Invalid behaviour events, kept in a capped Redis stream (about `maxEntries`, trimmed as it grows). */
export function createBehaviorDeadLetters(redis: Redis, key: string, maxEntries: number): BehaviorDeadLetters {
  return {
    async add(items) {
      if (items.length === 0) return;
      const pipeline = redis.pipeline();
      for (const { source, reason, raw } of items) {
        pipeline.xadd(key, "MAXLEN", "~", maxEntries, "*", "source", source, "reason", reason, "raw", raw.slice(0, RAW_LIMIT));
      }
      for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
    },
    async list(limit, before) {
      const entries = await redis.xrevrange(key, before ? `(${before}` : "+", "-", "COUNT", limit + 1);
      const items = entries.slice(0, limit).map(([id, fields]) => {
        const value = (name: string): string => fields[fields.indexOf(name) + 1] ?? "";
        return { id, source: value("source"), reason: value("reason"), raw: value("raw"), receivedAt: new Date(Number(id.split("-")[0])).toISOString() };
      });
      const last = items[items.length - 1];
      return entries.length > limit && last ? { items, nextCursor: last.id } : { items };
    },
  };
}
