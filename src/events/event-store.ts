import type { ChainableCommander, Redis } from "ioredis";
import { defineLuaCommand } from "../redis/lua-command.ts";
import { execPipeline } from "../redis/exec-pipeline.ts";
import type { EventKeys } from "./event-keys.ts";
import type { AcceptedEvent, CompanionRead, CompanionRecords, CompanionValues } from "./hub-event.ts";

export type AcceptOutcome = "stored" | "duplicate" | "conflict";

export interface EventStore {
  /**
   * Stores the event and marks it as not yet handed to delivery, in one round trip. When an event
   * with its id is already stored it writes nothing and answers `duplicate` (same body hash) or
   * `conflict` (another body). `records` are written with a new event, in the same round trip.
   */
  accept(accepted: AcceptedEvent, records?: CompanionRecords): Promise<AcceptOutcome>;
  /** As `accept`, also reading `reads` when the event is new, in the same round trip (`values` then holds what they found, when there were any). */
  acceptReading(accepted: AcceptedEvent, records: CompanionRecords | undefined, reads: readonly CompanionRead[]): Promise<{ outcome: AcceptOutcome; values?: CompanionValues }>;
  /** As `accept`, for several events in one round trip (stored in order), sent at once; one outcome per event. */
  acceptMany(items: readonly { accepted: AcceptedEvent; records?: CompanionRecords | undefined }[]): Promise<AcceptOutcome[]>;
  get(id: string): Promise<AcceptedEvent | undefined>;
  /** The records of events still marked for hand-off that were accepted before `beforeMs`, oldest first. */
  pendingHandOffs(beforeMs: number, limit: number): Promise<{ ids: string[]; events: AcceptedEvent[] }>;
  /** Clears the hand-off marks of these events (delivery has them). */
  handedOff(ids: readonly string[]): Promise<void>;
}

interface AcceptPipeline {
  kefuAcceptEvent(...args: (string | number)[]): ChainableCommander;
}

/** Per event: 1 stored, 0 a duplicate, -1 a conflict; a stored one with reads, [1, ...their values]. */
type AcceptAnswer = number | [number, ...(string | null)[][]];

interface AcceptCommand {
  /** The number of keys first: it varies with the companion records. */
  kefuAcceptEvent(...args: (string | number)[]): Promise<AcceptAnswer[]>;
}

interface AcceptItem {
  accepted: AcceptedEvent;
  records?: CompanionRecords | undefined;
  reads?: readonly CompanionRead[] | undefined;
}

export function createEventStore(redis: Redis, keys: EventKeys, dedupeSeconds: number): EventStore {
  defineLuaCommand(redis, "kefuAcceptEvent", new URL("./lua/accept-event.lua", import.meta.url));
  const commands = redis as unknown as AcceptCommand;
  const acceptMany = async (items: readonly AcceptItem[], now: boolean): Promise<{ outcome: AcceptOutcome; values?: CompanionValues }[]> => {
    if (items.length === 0) return [];
    const keyArgs: string[] = [keys.handoff];
    const args: (string | number)[] = [dedupeSeconds, items.length];
    for (const item of items) {
      const { accepted } = item;
      const id = accepted.event.id;
      keyArgs.push(keys.event(id));
      args.push(JSON.stringify(accepted), accepted.acceptedAt, id, accepted.bodyHash ?? "");
      companionArguments(item, keyArgs, args);
    }
    // One event (POST /v1/events) is auto-pipelined with the others of its turn; a batch was
    // collected by its caller already and is written at once, on a pipeline of its own
    // (auto-pipelining would hold a call made from the caller's setImmediate for another turn).
    const answers = now
      ? ((await execPipeline((redis.pipeline() as unknown as AcceptPipeline).kefuAcceptEvent(keyArgs.length, ...keyArgs, ...args)))[0] as AcceptAnswer[])
      : await commands.kefuAcceptEvent(keyArgs.length, ...keyArgs, ...args);
    return items.map((_, index) => {
      const answer = answers[index];
      if (Array.isArray(answer)) return { outcome: "stored", values: answer.slice(1) as (string | null)[][] };
      return { outcome: answer === 1 ? "stored" : answer === 0 ? "duplicate" : "conflict" };
    });
  };
  const parse = (raw: unknown): AcceptedEvent | undefined => (typeof raw === "string" ? (JSON.parse(raw) as AcceptedEvent) : undefined);
  return {
    async accept(accepted, records) {
      const [answer] = await acceptMany([{ accepted, records }], false);
      return answer?.outcome ?? "conflict";
    },
    async acceptReading(accepted, records, reads) {
      const [answer] = await acceptMany([{ accepted, records, reads }], false);
      return answer ?? { outcome: "conflict" };
    },
    acceptMany: async (items) => (await acceptMany(items, true)).map(({ outcome }) => outcome),
    async get(id) {
      return parse(await redis.get(keys.event(id)));
    },
    async pendingHandOffs(beforeMs, limit) {
      const ids = await redis.zrangebyscore(keys.handoff, "-inf", beforeMs, "LIMIT", 0, limit);
      if (ids.length === 0) return { ids, events: [] };
      const records = await redis.mget(...ids.map((id) => keys.event(id)));
      // A record gone (expired after the dedupe window) has nothing left to deliver; its mark is cleared with the rest.
      return { ids, events: records.flatMap((raw) => parse(raw) ?? []) };
    },
    async handedOff(ids) {
      if (ids.length === 0) return;
      await redis.zrem(keys.handoff, ...ids);
    },
  };
}

/**
 * One event's companion records and reads as the script takes them (see lua/accept-event.lua): their
 * counts, their keys, and their values as one JSON array (the client's cost is per argument).
 */
function companionArguments({ records, reads = [] }: Pick<AcceptItem, "records" | "reads">, keys: string[], args: (string | number)[]): void {
  const hashes = records?.hashes ?? [];
  const indexes = records?.indexes ?? [];
  args.push(hashes.length, indexes.length, reads.length);
  if (hashes.length === 0 && indexes.length === 0 && reads.length === 0) {
    args.push("");
    return;
  }
  const values: unknown[] = [];
  for (const { key, fields, ttlSeconds } of hashes) {
    keys.push(key);
    values.push([ttlSeconds, fields]);
  }
  for (const { key, score, member, trimBelow, ttlSeconds } of indexes) {
    keys.push(key);
    values.push([score, member, trimBelow === undefined ? "" : `(${trimBelow}`, ttlSeconds ?? ""]);
  }
  for (const { key, fields } of reads) {
    keys.push(key);
    values.push(fields);
  }
  args.push(JSON.stringify(values));
}
