import type { Redis } from "ioredis";
import { defineLuaCommand } from "../redis/lua-command.ts";
import type { EventKeys } from "./event-keys.ts";
import type { AcceptedEvent } from "./hub-event.ts";

export interface EventStore {
  /**
   * Stores the event and marks it as not yet handed to delivery, in one round trip. When an event
   * with its id is already stored it writes nothing and answers `duplicate` (same body hash) or
   * `conflict` (another body).
   */
  accept(accepted: AcceptedEvent): Promise<"stored" | "duplicate" | "conflict">;
  get(id: string): Promise<AcceptedEvent | undefined>;
  /** The records of events still marked for hand-off that were accepted before `beforeMs`, oldest first. */
  pendingHandOffs(beforeMs: number, limit: number): Promise<{ ids: string[]; events: AcceptedEvent[] }>;
  /** Clears the hand-off marks of these events (delivery has them). */
  handedOff(ids: readonly string[]): Promise<void>;
}

interface AcceptCommand {
  kefuAcceptEvent(recordKey: string, handoffKey: string, json: string, ttlSeconds: number, acceptedAtMs: number, eventId: string, bodyHash: string): Promise<number>;
}

export function createEventStore(redis: Redis, keys: EventKeys, dedupeSeconds: number): EventStore {
  defineLuaCommand(redis, "kefuAcceptEvent", new URL("./lua/accept-event.lua", import.meta.url), 2);
  const commands = redis as unknown as AcceptCommand;
  const parse = (raw: unknown): AcceptedEvent | undefined => (typeof raw === "string" ? (JSON.parse(raw) as AcceptedEvent) : undefined);
  return {
    async accept(accepted) {
      const json = JSON.stringify(accepted);
      const answer = await commands.kefuAcceptEvent(keys.event(accepted.event.id), keys.handoff, json, dedupeSeconds, accepted.acceptedAt, accepted.event.id, accepted.bodyHash ?? "");
      return answer === 1 ? "stored" : answer === 0 ? "duplicate" : "conflict";
    },
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
