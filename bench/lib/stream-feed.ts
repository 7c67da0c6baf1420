// Behaviour events into a Redis Stream, and a consumer group's progress read back from Redis.
import type { Redis } from "ioredis";
import { customerIdOf } from "./session-seed.ts";

export interface FeedOptions {
  /** Customers bc-0 … bc-(n-1) have an open session. */
  openCustomers: number;
  /** Share of events (0–1) for customers without one. */
  filteredShare: number;
  /** Makes the event ids unique per fill. */
  tag: string;
  /** Extra `data` of every event. @defaultValue {} */
  data?: Record<string, unknown>;
}

/** Envelope `{id, customerId, type, occurredAt, data}` of event `i`: page views, every 5th a failed payment. */
export function behaviorEventJson(i: number, { openCustomers, filteredShare, tag, data = {} }: FeedOptions): string {
  // Spread the filtered ones evenly: event i is filtered when its slot in every block of 100 is below the share.
  const filtered = (i * 37) % 100 < filteredShare * 100;
  const customerId = filtered ? `nc-${i}` : customerIdOf(i % openCustomers);
  const payment = i % 5 === 4;
  return JSON.stringify({
    id: `${tag}-${i}`,
    customerId,
    type: payment ? "payment.failed" : "page.viewed",
    occurredAt: new Date().toISOString(),
    data: payment ? { orderId: `SO-${i % 100_000}`, reason: "card_declined", amount: 59.5, ...data } : { url: `https://shop.example/products/${i % 5000}`, ...data },
  });
}

/** XADDs `count` events, 1,000 per pipeline; answers the last entry id. */
export async function fillStream(redis: Redis, stream: string, count: number, options: FeedOptions): Promise<string> {
  let last = "";
  for (let first = 0; first < count; first += 1000) {
    const pipeline = redis.pipeline();
    for (let i = first; i < Math.min(count, first + 1000); i++) pipeline.xadd(stream, "*", "event", behaviorEventJson(i, options));
    const results = (await pipeline.exec()) ?? [];
    for (const [error, id] of results) {
      if (error) throw error;
      last = String(id);
    }
  }
  return last;
}

export interface GroupInfo {
  pending: number;
  lastDeliveredId: string;
  entriesRead: number;
}

export async function groupInfo(redis: Redis, stream: string, group: string): Promise<GroupInfo | undefined> {
  const groups = (await redis.xinfo("GROUPS", stream)) as (string | number | null)[][];
  for (const flat of groups) {
    const info = new Map<string, string | number | null>();
    for (let k = 0; k < flat.length; k += 2) info.set(String(flat[k]), flat[k + 1] ?? null);
    if (info.get("name") === group) return { pending: Number(info.get("pending")), lastDeliveredId: String(info.get("last-delivered-id")), entriesRead: Number(info.get("entries-read")) };
  }
  return undefined;
}

/** Creates the group at the stream's end, so that a consumer can start up without reading anything yet. */
export async function parkGroup(redis: Redis, stream: string, group: string): Promise<void> {
  await redis.xgroup("CREATE", stream, group, "$", "MKSTREAM");
}

/**
 * Hands the consumer everything in the stream at once: moves the group back to the start, then adds
 * one more (filtered) entry to wake a consumer blocked in XREADGROUP. Answers the id of that last entry.
 */
export async function releaseGroup(redis: Redis, stream: string, group: string, wake: string): Promise<string> {
  await redis.call("XGROUP", "SETID", stream, group, "0", "ENTRIESREAD", 0);
  return String(await redis.xadd(stream, "*", "event", wake));
}

/** Polls until the group has read and acknowledged everything up to `lastId` (or its consumer died); answers when that was seen. */
export async function waitAcknowledged(redis: Redis, stream: string, group: string, lastId: string, alive: () => boolean, timeoutMs = 120_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await groupInfo(redis, stream, group);
    if (info && info.lastDeliveredId === lastId && info.pending === 0) return performance.now();
    if (!alive()) throw new Error(`the consumer of group ${group} exited`);
    if (Date.now() > deadline) throw new Error(`group ${group} did not acknowledge up to ${lastId}: ${JSON.stringify(info)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
