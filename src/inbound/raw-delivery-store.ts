import { isUtf8 } from "node:buffer";
import { hash, randomFillSync } from "node:crypto";
import type { ChainableCommander, Redis } from "ioredis";
import { pageSortedSet, type Page } from "../redis/cursor-page.ts";
import { defineLuaCommand } from "../redis/lua-command.ts";
import { execPipeline } from "../redis/exec-pipeline.ts";
import type { InboundKeys } from "./inbound-keys.ts";
import { createTurnBatch } from "./turn-batch.ts";

/** `received`: stored, not transformed yet; `processed`: its events are in; `dead`: the transform failed. */
export type RawDeliveryStatus = "received" | "processed" | "dead";

/** A raw delivery as GET /v1/inbound-deliveries lists it (schemas/inbound/delivery.schema.json). */
export interface RawDeliveryInfo {
  id: string;
  source: string;
  status: RawDeliveryStatus;
  /** ISO 8601. */
  receivedAt: string;
  contentType: string;
  sizeBytes: number;
  /** The dedupe value, when the source has a rule and the delivery carried it. */
  dedupe?: string;
  /** Transform runs so far. */
  attempts: number;
  /** Why the last transform failed (dead letters). */
  error?: string;
  /** The hub events it became. */
  events?: string[];
  /** How many behaviour events it became. */
  behaviorEvents?: number;
  processedAt?: string;
}

export interface RawDelivery extends RawDeliveryInfo {
  /** Lower-cased names, without credentials. */
  headers: Record<string, string>;
  raw: Buffer;
}

/** What the transform step needs of a delivery: the parsed body rather than its bytes. */
export interface FreshDelivery {
  id: string;
  source: string;
  headers: Record<string, string>;
  /** Parsed as received (before any decryption by the verifier's `open`). */
  body: unknown;
  /** ISO 8601. */
  receivedAt: string;
}

export interface NewDelivery {
  source: string;
  contentType: string;
  headers: Record<string, string>;
  raw: Buffer;
  receivedAtMs: number;
  replay?: { key: string; ttlSeconds: number };
  dedupe?: { value: string; ttlSeconds: number };
}

export type StoreOutcome = { outcome: "stored"; id: string } | { outcome: "duplicate"; id: string } | { outcome: "replay" };

export interface RawDeliveryStore {
  /** Stores a verified delivery in one step with its replay and dedupe marks (a turn's deliveries in one Redis call). */
  store(delivery: NewDelivery): Promise<StoreOutcome>;
  get(id: string): Promise<RawDelivery | undefined>;
  /** Marks it taken up now, so that recovery elsewhere waits another grace period. */
  claim(id: string, nowMs: number): Promise<void>;
  /** Takes it up for recovery unless another instance did since `staleBeforeMs`; answers whether this one may run it. */
  claimStale(id: string, nowMs: number, staleBeforeMs: number): Promise<boolean>;
  /** Resolves once written: the outcomes of one turn go in one Redis call (`processedAt` is when it is sent). */
  processed(id: string, result: { events: string[]; behaviorEvents: number }): Promise<void>;
  dead(id: string, error: string): Promise<void>;
  /** Received deliveries not taken up since `beforeMs`, oldest first. */
  pendingBefore(beforeMs: number, limit: number): Promise<string[]>;
  list(filter: "all" | "dead" | "received", limit: number, cursor?: { score: number; member: string }): Promise<Page<RawDeliveryInfo>>;
}

/** One transform run's outcome, as lua/finish-deliveries.lua takes it. */
interface Finished {
  id: string;
  status: "processed" | "dead";
  /** Field/value pairs of the delivery hash. */
  fields: (string | number)[];
}

interface StoreCommands {
  kefuClaimInbound(pending: string, id: string, nowMs: number, staleBeforeMs: number): Promise<number>;
}

/** The batched scripts, sent on a pipeline of their own: written at once (auto-pipelining would hold a call made from the batch's setImmediate for another turn). */
interface StorePipeline {
  kefuStoreInbound(...args: (string | number | Buffer)[]): ChainableCommander;
  kefuFinishInbound(...args: (string | number)[]): ChainableCommander;
}

const INFO_FIELDS = ["id", "source", "status", "receivedAt", "contentType", "sizeBytes", "dedupe", "attempts", "error", "events", "behaviorEvents", "processedAt"] as const;

/**
 * Delivery ids: `ind_` + 32 hex digits (128 random bits), also the stem of the ids of the hub
 * events a delivery becomes. Drawn from a pool of random bytes refilled 4 KiB (256 ids) at a time:
 * randomBytes per delivery cost 2 % of the hub's CPU in bench/inbound.ts, and randomUUID with its
 * dashes removed still ~1.5 µs a delivery. One pool per store, not per module.
 */
function createDeliveryIds(): () => string {
  const pool = Buffer.alloc(16 * 256);
  let offset = pool.length;
  return () => {
    if (offset === pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    const hex = pool.toString("hex", offset, offset + 16);
    offset += 16;
    return `ind_${hex}`;
  };
}

/**
 * The raw body as the store script's argument: as text when it is UTF-8 (nearly always: the same
 * bytes reach Redis), since one Buffer argument switches ioredis to building the whole pipeline
 * from buffers and concatenating them; other bytes as they are.
 */
function rawArgument(raw: Buffer): string | Buffer {
  return isUtf8(raw) ? raw.toString("utf8") : raw;
}

/** Provider values of any length and bytes, as a short key part. */
function digest(value: string): string {
  return hash("sha256", value, "base64url").slice(0, 32);
}

/**
 * Raw deliveries, each a hash; indexes for listing, recovery (`pending`) and dead letters. A
 * processed delivery expires after `retainSeconds`; received and dead ones stay until handled, so
 * that nothing accepted with a 2xx is lost.
 */
export function createRawDeliveryStore(redis: Redis, keys: InboundKeys, retainSeconds: number): RawDeliveryStore {
  defineLuaCommand(redis, "kefuStoreInbound", new URL("./lua/store-deliveries.lua", import.meta.url));
  defineLuaCommand(redis, "kefuClaimInbound", new URL("./lua/claim-delivery.lua", import.meta.url), 1);
  defineLuaCommand(redis, "kefuFinishInbound", new URL("./lua/finish-deliveries.lua", import.meta.url));
  const commands = redis as unknown as StoreCommands;
  const newDeliveryId = createDeliveryIds();
  // The deliveries verified in one turn are stored in one call (lua/store-deliveries.lua).
  const store = createTurnBatch<NewDelivery, StoreOutcome>(async (batch) => {
    const keyArgs: string[] = [keys.all, keys.pending];
    const args: (string | number | Buffer)[] = [retainSeconds];
    for (const delivery of batch) {
      const id = newDeliveryId();
      // Unused mark keys are still named (three keys per delivery); they are never written.
      keyArgs.push(
        keys.delivery(id),
        delivery.replay ? keys.replay(delivery.source, digest(delivery.replay.key)) : keys.all,
        delivery.dedupe ? keys.dedupe(delivery.source, digest(delivery.dedupe.value)) : keys.all,
      );
      const pairs = delivery.dedupe ? 10 : 9;
      args.push(
        id, delivery.receivedAtMs, delivery.replay?.ttlSeconds ?? "", delivery.dedupe?.ttlSeconds ?? "", pairs,
        "id", id, "source", delivery.source, "status", "received", "receivedAt", delivery.receivedAtMs, "contentType", delivery.contentType,
        "sizeBytes", delivery.raw.length, "attempts", 0, "headers", JSON.stringify(delivery.headers), "raw", rawArgument(delivery.raw),
      );
      if (delivery.dedupe) args.push("dedupe", delivery.dedupe.value);
    }
    const answers = (await execPipeline((redis.pipeline() as unknown as StorePipeline).kefuStoreInbound(keyArgs.length, ...keyArgs, ...args)))[0] as (number | string)[];
    return batch.map((_, index): StoreOutcome => {
      const code = Number(answers[2 * index]);
      const id = String(answers[2 * index + 1]);
      return code === -1 ? { outcome: "replay" } : { outcome: code === 1 ? "stored" : "duplicate", id };
    });
  });
  // The outcomes of a turn's transform runs go to Redis in one call (lua/finish-deliveries.lua).
  const finish = createTurnBatch<Finished, void>(async (batch) => {
    const deliveryKeys = batch.map(({ id }) => keys.delivery(id));
    const args: (string | number)[] = [Date.now(), retainSeconds];
    for (const { id, status, fields } of batch) args.push(id, status, fields.length / 2, ...fields);
    await execPipeline((redis.pipeline() as unknown as StorePipeline).kefuFinishInbound(2 + deliveryKeys.length, keys.pending, keys.dead, ...deliveryKeys, ...args));
    return [];
  });

  return {
    store: (delivery) => store(delivery),
    async get(id) {
      const stored = await redis.hgetallBuffer(keys.delivery(id));
      if (!stored["id"]) return undefined;
      const text = (field: string): string | undefined => stored[field]?.toString("utf8");
      return { ...infoOf(INFO_FIELDS.map((field) => text(field) ?? null)), headers: JSON.parse(text("headers") ?? "{}") as Record<string, string>, raw: stored["raw"] ?? Buffer.alloc(0) };
    },
    async claim(id, nowMs) {
      await redis.zadd(keys.pending, "XX", nowMs, id);
    },
    async claimStale(id, nowMs, staleBeforeMs) {
      return (await commands.kefuClaimInbound(keys.pending, id, nowMs, staleBeforeMs)) === 1;
    },
    processed: (id, result) => finish({ id, status: "processed", fields: ["events", JSON.stringify(result.events), "behaviorEvents", result.behaviorEvents, "error", ""] }),
    dead: (id, error) => finish({ id, status: "dead", fields: ["error", error.slice(0, 2000)] }),
    async pendingBefore(beforeMs, limit) {
      return redis.zrangebyscore(keys.pending, "-inf", beforeMs, "LIMIT", 0, limit);
    },
    async list(filter, limit, cursor) {
      const index = filter === "dead" ? keys.dead : filter === "received" ? keys.pending : keys.all;
      const page = await pageSortedSet(redis, index, limit, cursor);
      const pipeline = redis.pipeline();
      for (const { member } of page.items) pipeline.hmget(keys.delivery(member), ...INFO_FIELDS);
      const rows = (await pipeline.exec()) ?? [];
      // A processed delivery past its retention is gone from its hash before the index is trimmed.
      const items = rows.flatMap(([, row]) => (Array.isArray(row) && row[0] ? [infoOf(row as (string | null)[])] : []));
      return page.nextCursor ? { items, nextCursor: page.nextCursor } : { items };
    },
  };
}

function infoOf(row: readonly (string | null | undefined)[]): RawDeliveryInfo {
  const [id, source, status, receivedAt, contentType, sizeBytes, dedupe, attempts, error, events, behaviorEvents, processedAt] = row;
  return {
    id: id ?? "",
    source: source ?? "",
    status: (status ?? "received") as RawDeliveryStatus,
    receivedAt: new Date(Number(receivedAt)).toISOString(),
    contentType: contentType ?? "",
    sizeBytes: Number(sizeBytes ?? 0),
    attempts: Number(attempts ?? 0),
    ...(dedupe ? { dedupe } : {}),
    ...(error ? { error } : {}),
    ...(events ? { events: JSON.parse(events) as string[] } : {}),
    ...(behaviorEvents ? { behaviorEvents: Number(behaviorEvents) } : {}),
    ...(processedAt ? { processedAt: new Date(Number(processedAt)).toISOString() } : {}),
  };
}
