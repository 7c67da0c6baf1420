import type { ChainableCommander, Redis } from "ioredis";
import type { CompanionRecords, HubEvent } from "../events/hub-event.ts";
import { encodeCursor, pageSortedSet, type Page } from "../redis/cursor-page.ts";
import { execPipeline } from "../redis/exec-pipeline.ts";
import { createWriteCoalescer } from "../redis/write-coalescer.ts";
import type { DeliveryKeys } from "./delivery-keys.ts";
import { createDeliveryScripts } from "./delivery-scripts.ts";
export { CREATED } from "./delivery-scripts.ts";

export type DeliveryStatus = "pending" | "retrying" | "delivered" | "failed" | "skipped";

/** One try, as kept in the attempt log (failed ones in a list, the successful one in the record). */
export interface Attempt {
  at: string;
  statusCode?: number;
  durationMs: number;
  error?: string;
  /** First 4 KB of the response body. */
  responseBody?: string;
  /** First 4,096 characters of the body sent, when the subscription masks it (docs/events-and-webhooks.md). */
  requestBody?: string;
}

export interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  subscriptionId: string;
  status: DeliveryStatus;
  attempts: number;
  replays: number;
  createdAt: string;
  updatedAt: string;
  nextAttemptAt?: string;
  deliveredAt?: string;
  failedAt?: string;
  lastStatusCode?: number;
  lastError?: string;
}

export interface DeliveryDetail extends Delivery {
  attemptLog: Attempt[];
}

/** The deliveries of one event, as fan-out creates them. */
export interface NewDeliveries {
  eventId: string;
  eventType: string;
  createdAtMs: number;
  deliveries: readonly { id: string; subscriptionId: string; queueKey?: string; queueEntry?: string }[];
}

export type AttemptOutcome =
  | { status: "delivered" }
  | { status: "retrying"; nextAttemptAt: number }
  | { status: "failed"; event: HubEvent };

export interface DeliveryStore {
  /**
   * Writes new deliveries (records, the event's index, the subscriptions' indexes, conversation
   * queues); existing ones keep their state (fan-out may run twice). Answers, per delivery, one
   * of {@link CREATED}: whether its job is to be queued now.
   */
  create(event: NewDeliveries): Promise<number[]>;
  /**
   * The same records as {@link create} writes, for the accept script to write with a new event
   * (before any job of theirs exists, so every one is new and due).
   */
  companionRecords(event: NewDeliveries): CompanionRecords;
  /** The next queue entry of an ordered conversation once `deliveryId`, its head, is final. */
  advanceConversation(queueKey: string, deliveryId: string): Promise<string | null>;
  recordAttempt(delivery: { id: string; subscriptionId: string }, attempt: Attempt, outcome: AttemptOutcome): Promise<void>;
  /**
   * Records a successful attempt. The command is written before this returns, on the worker's
   * connection when the store has one (`completion`): Redis then runs it before the move to
   * completed that BullMQ sends next on that socket, so the caller need not wait for it.
   * `expirySetAtMs`, when the record's expiry was last set at the latest (its event's acceptance),
   * spares the expiry's renewal for a success right after it.
   */
  recordDelivered(delivery: { id: string; subscriptionId: string }, attempt: Attempt, expirySetAtMs?: number): Promise<void>;
  /** Dead letter without an attempt (e.g. the subscription was disabled meanwhile). */
  markFailed(delivery: { id: string; subscriptionId: string }, reason: string, event: HubEvent): Promise<void>;
  markSkipped(deliveryId: string, reason: string): Promise<void>;
  /** Moves a dead letter back to pending; answers its event, or undefined when it is not a dead letter. */
  reopen(deliveryId: string): Promise<{ event: HubEvent; subscriptionId: string } | undefined>;
  get(deliveryId: string): Promise<DeliveryDetail | undefined>;
  getMany(ids: readonly string[]): Promise<Delivery[]>;
  /** A page of the deliveries listed in any sorted set of delivery ids (e.g. an event's). */
  pageOf(key: string, limit: number, cursor?: { score: number; member: string }): Promise<Page<Delivery>>;
  pageOfSubscription(subscriptionId: string, limit: number, cursor?: { score: number; member: string }): Promise<Page<Delivery>>;
  pageOfDead(options: { subscriptionId?: string; limit: number; cursor?: { score: number; member: string } }): Promise<Page<Delivery>>;
  /**
   * A page of every delivery (or one subscription's), newest first, optionally of one status. A
   * status other than `failed` is filtered while paging, reading at most {@link FILTER_SCAN_LIMIT}
   * records per page: a page may then hold fewer than `limit` items and still have a `nextCursor`.
   */
  pageOfAll(options: { subscriptionId?: string; status?: DeliveryStatus; limit: number; cursor?: { score: number; member: string } }): Promise<Page<Delivery>>;
  /** Dead-letter ids of a subscription that failed at or after `sinceMs`. */
  deadSince(subscriptionId: string, sinceMs: number): Promise<string[]>;
}

export interface DeliveryStoreOptions {
  redis: Redis;
  keys: DeliveryKeys;
  /** How long delivery records stay (the events' dedupe window). */
  retentionSeconds: number;
  deadLetterSeconds: number;
  /**
   * The BullMQ worker's own connection. A success recorded on it precedes the job's move to
   * completed on the same socket, so a job is never finished before its record says delivered,
   * and the worker saves a round trip per delivery. Without it, `redis` is used.
   */
  completion?: Redis;
}

const ATTEMPTS_KEPT = 50;

/** The record's fields every attempt sets. */
function attemptFields(attempt: Attempt, status: DeliveryStatus): (string | number)[] {
  const fields: (string | number)[] = ["status", status, "updatedAt", attempt.at, "lastError", attempt.error ?? ""];
  if (attempt.statusCode !== undefined) fields.push("lastStatusCode", attempt.statusCode);
  return fields;
}

/** Records one page of a status-filtered listing reads at most, so that a rare status costs a bounded scan. */
export const FILTER_SCAN_LIMIT = 2000;

export function createDeliveryStore({ redis, keys, retentionSeconds, deadLetterSeconds, completion }: DeliveryStoreOptions): DeliveryStore {
  const scripts = createDeliveryScripts(redis);
  const completionRedis = completion ?? redis;
  // The record and BullMQ's move to completed, and those of deliveries finishing in the same turn, in one socket write.
  const holdCompletionWrites = completion ? createWriteCoalescer(completion) : () => undefined;
  const getMany = async (ids: readonly string[]): Promise<Delivery[]> => {
    if (ids.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.delivery(id));
    const results = await execPipeline(pipeline);
    return results.flatMap((value) => {
      const hash = value as Record<string, string> | null;
      return hash?.["id"] ? [fromHash(hash)] : [];
    });
  };
  const toPage = async (page: Page<{ member: string }>): Promise<Page<Delivery>> => ({
    ...page,
    items: await getMany(page.items.map((item) => item.member)),
  });

  const pageOfDead: DeliveryStore["pageOfDead"] = async ({ subscriptionId, limit, cursor }) => {
    const key = subscriptionId ? keys.subscriptionDead(subscriptionId) : keys.dead;
    return toPage(await pageSortedSet(redis, key, limit, cursor));
  };

  // A record's expiry is set when it is created and at every failed attempt; a success soon after
  // that keeps it (the record then outlives its delivery by the retention less this slack at worst).
  const expirySlackMs = Math.min(60_000, (retentionSeconds * 1000) / 10);
  const recordDelivered: DeliveryStore["recordDelivered"] = async (delivery, attempt, expirySetAtMs) => {
    // One HSET, the hot path's only write of its own: a success is the last attempt, so it is kept
    // in the record, not the log; it is counted by `succeeded` (idempotent, unlike an HINCRBY of
    // `attempts`, and HSET is a fraction of a script's cost to Redis).
    const key = keys.delivery(delivery.id);
    holdCompletionWrites();
    const fields = [...attemptFields(attempt, "delivered"), "deliveredAt", attempt.at, "nextAttemptAt", "", "succeeded", 1, "deliveredAttempt", JSON.stringify(attempt)];
    const written = completionRedis.hset(key, ...fields);
    if (expirySetAtMs !== undefined && Date.now() - expirySetAtMs <= expirySlackMs) {
      await written;
      return;
    }
    await Promise.all([written, completionRedis.expire(key, retentionSeconds)]);
  };

  return {
    create(event) {
      const deliveries = event.deliveries.map((d) => ({ ...d, hashKey: keys.delivery(d.id), subscriptionIndexKey: keys.subscriptionDeliveries(d.subscriptionId) }));
      const records = { ...event, indexKey: keys.eventDeliveries(event.eventId), allIndexKey: keys.deliveries, deliveries };
      return scripts.create(records, retentionSeconds, Date.now() - retentionSeconds * 1000);
    },
    companionRecords({ eventId, eventType, createdAtMs, deliveries }) {
      const createdAt = new Date(createdAtMs).toISOString();
      const trimBelow = Date.now() - retentionSeconds * 1000;
      const eventIndex = keys.eventDeliveries(eventId);
      return {
        // createdAt first: the field whose absence means new, as in lua/create-deliveries.lua.
        hashes: deliveries.map(({ id, subscriptionId }) => ({
          key: keys.delivery(id),
          fields: ["createdAt", createdAt, "id", id, "eventId", eventId, "eventType", eventType, "subscriptionId", subscriptionId, "status", "pending", "updatedAt", createdAt],
          ttlSeconds: retentionSeconds,
        })),
        indexes: deliveries.flatMap(({ id, subscriptionId }) => [
          { key: eventIndex, score: createdAtMs, member: id, ttlSeconds: retentionSeconds },
          { key: keys.subscriptionDeliveries(subscriptionId), score: createdAtMs, member: id, trimBelow },
          // The index of every delivery (GET /v1/deliveries), trimmed like create-deliveries.lua trims it.
          { key: keys.deliveries, score: createdAtMs, member: id, trimBelow },
        ]),
      };
    },
    advanceConversation: (queueKey, deliveryId) => scripts.advance(queueKey, keys.conversationsDue, deliveryId),
    recordDelivered,
    async recordAttempt(delivery, attempt, outcome) {
      if (outcome.status === "delivered") return recordDelivered(delivery, attempt);
      const fields = attemptFields(attempt, outcome.status);
      fields.push("nextAttemptAt", outcome.status === "retrying" ? new Date(outcome.nextAttemptAt).toISOString() : "");
      const failed = outcome.status === "failed";
      if (failed) fields.push("failedAt", attempt.at, "event", JSON.stringify(outcome.event));
      const recordKeys = { hash: keys.delivery(delivery.id), attempts: keys.attempts(delivery.id) };
      // Not an explicit pipeline: the connection auto-pipelines, so the bookkeeping of concurrent
      // deliveries leaves in one socket write.
      const recorded = scripts.recordAttempt(recordKeys, JSON.stringify(attempt), ATTEMPTS_KEPT, failed ? deadLetterSeconds : retentionSeconds, fields);
      if (!failed) {
        await recorded;
        return;
      }
      const pipeline = redis.pipeline();
      queueDeadLetterIndexes(pipeline, delivery, Date.parse(attempt.at));
      await Promise.all([recorded, execPipeline(pipeline)]);
    },
    async markFailed(delivery, reason, event) {
      const at = new Date().toISOString();
      const pipeline = redis.pipeline();
      const key = keys.delivery(delivery.id);
      pipeline.hset(key, { status: "failed", updatedAt: at, lastError: reason, nextAttemptAt: "", failedAt: at, event: JSON.stringify(event) });
      pipeline.expire(key, deadLetterSeconds).expire(keys.attempts(delivery.id), deadLetterSeconds);
      queueDeadLetterIndexes(pipeline, delivery, Date.parse(at));
      await execPipeline(pipeline);
    },
    async markSkipped(deliveryId, reason) {
      await redis.hset(keys.delivery(deliveryId), { status: "skipped", updatedAt: new Date().toISOString(), lastError: reason, nextAttemptAt: "" });
    },
    async reopen(deliveryId) {
      const hash = await redis.hgetall(keys.delivery(deliveryId));
      if (hash["status"] !== "failed" || !hash["event"] || !hash["subscriptionId"]) return undefined;
      const subscriptionId = hash["subscriptionId"];
      await execPipeline(
        redis
          .pipeline()
          .hset(keys.delivery(deliveryId), { status: "pending", updatedAt: new Date().toISOString(), failedAt: "" })
          .hincrby(keys.delivery(deliveryId), "replays", 1)
          .zrem(keys.dead, deliveryId)
          .zrem(keys.subscriptionDead(subscriptionId), deliveryId),
      );
      return { event: JSON.parse(hash["event"]) as HubEvent, subscriptionId };
    },
    async get(deliveryId) {
      const [hash, attempts] = await Promise.all([redis.hgetall(keys.delivery(deliveryId)), redis.lrange(keys.attempts(deliveryId), 0, -1)]);
      if (!hash["id"]) return undefined;
      const attemptLog = attempts.map((raw) => JSON.parse(raw) as Attempt);
      if (hash["deliveredAttempt"]) attemptLog.push(JSON.parse(hash["deliveredAttempt"]) as Attempt);
      return { ...fromHash(hash), attemptLog };
    },
    getMany,
    async pageOf(key, limit, cursor) {
      return toPage(await pageSortedSet(redis, key, limit, cursor));
    },
    async pageOfSubscription(subscriptionId, limit, cursor) {
      return toPage(await pageSortedSet(redis, keys.subscriptionDeliveries(subscriptionId), limit, cursor));
    },
    pageOfDead,
    async pageOfAll({ subscriptionId, status, limit, cursor }) {
      if (status === "failed") return pageOfDead({ limit, ...(subscriptionId ? { subscriptionId } : {}), ...(cursor ? { cursor } : {}) });
      const key = subscriptionId ? keys.subscriptionDeliveries(subscriptionId) : keys.deliveries;
      if (!status) return toPage(await pageSortedSet(redis, key, limit, cursor));
      return filteredPage(key, status, limit, cursor);
    },
    async deadSince(subscriptionId, sinceMs) {
      return redis.zrangebyscore(keys.subscriptionDead(subscriptionId), sinceMs, "+inf");
    },
  };

  /** Pages through `key` newest first, keeping the deliveries of `status`, within the scan limit. */
  async function filteredPage(key: string, status: DeliveryStatus, limit: number, start?: { score: number; member: string }): Promise<Page<Delivery>> {
    const items: Delivery[] = [];
    let cursor = start;
    let scanned = 0;
    for (;;) {
      const batch = await pageSortedSet(redis, key, Math.min(200, FILTER_SCAN_LIMIT - scanned), cursor);
      const found = new Map((await getMany(batch.items.map((item) => item.member))).map((delivery) => [delivery.id, delivery]));
      for (const entry of batch.items) {
        scanned++;
        cursor = entry;
        const delivery = found.get(entry.member);
        if (delivery?.status !== status) continue;
        items.push(delivery);
        if (items.length === limit) return { items, nextCursor: encodeCursor(entry) };
      }
      if (!batch.nextCursor) return { items };
      if (scanned >= FILTER_SCAN_LIMIT && cursor) return { items, nextCursor: encodeCursor(cursor) };
    }
  }

  /** The dead-letter indexes, global and per subscription, trimmed to the retention. */
  function queueDeadLetterIndexes(pipeline: ChainableCommander, delivery: { id: string; subscriptionId: string }, atMs: number): void {
    const trimBefore = `(${atMs - deadLetterSeconds * 1000}`;
    pipeline.zadd(keys.dead, atMs, delivery.id).zremrangebyscore(keys.dead, "-inf", trimBefore);
    pipeline.zadd(keys.subscriptionDead(delivery.subscriptionId), atMs, delivery.id);
    pipeline.zremrangebyscore(keys.subscriptionDead(delivery.subscriptionId), "-inf", trimBefore);
  }
}

function fromHash(hash: Record<string, string>): Delivery {
  const optional = (name: string): string | undefined => (hash[name] ? hash[name] : undefined);
  const delivery: Delivery = {
    id: hash["id"] ?? "",
    eventId: hash["eventId"] ?? "",
    eventType: hash["eventType"] ?? "",
    subscriptionId: hash["subscriptionId"] ?? "",
    status: (hash["status"] ?? "pending") as DeliveryStatus,
    // Failed attempts are counted in `attempts`, the success in `succeeded` (see recordDelivered).
    attempts: Number(hash["attempts"] ?? 0) + Number(hash["succeeded"] ?? 0),
    replays: Number(hash["replays"] ?? 0),
    createdAt: hash["createdAt"] ?? "",
    updatedAt: hash["updatedAt"] ?? "",
  };
  for (const name of ["nextAttemptAt", "deliveredAt", "failedAt", "lastError"] as const) {
    const value = optional(name);
    if (value) delivery[name] = value;
  }
  if (hash["lastStatusCode"]) delivery.lastStatusCode = Number(hash["lastStatusCode"]);
  return delivery;
}
