import type { Redis } from "ioredis";
import { decodeCursor, encodeCursor, type Page } from "../redis/cursor-page.ts";
import type { SessionKeys } from "./session-keys.ts";
import type { SessionContext, SessionWindows, StoredSession } from "./session-types.ts";

/** A session as Redis holds it: its context and windows as JSON, and the version they are at. */
export interface SessionRecord {
  version: number;
  contextJson: string;
  windowsJson: string;
}

export interface SessionListQuery {
  customerId?: string;
  state?: SessionContext["state"];
  limit: number;
  cursor?: string;
}

export interface SessionStore {
  get(sessionId: string): Promise<SessionRecord | undefined>;
  /** Several sessions in one round trip, in the order asked. */
  getMany(sessionIds: readonly string[]): Promise<(SessionRecord | undefined)[]>;
  /** Every open session, a page at a time (start-up and reconnects). */
  openSessions(pageSize?: number): AsyncGenerator<SessionRecord[]>;
  /** Newest first; `nextCursor` while there may be more. */
  list(query: SessionListQuery): Promise<Page<SessionRecord>>;
}

/** Reads of sessions in Redis, the source of truth for every instance; writes are session-writer.ts's. */
export function createSessionStore(redis: Redis, keys: SessionKeys): SessionStore {
  // Plain commands, not an explicit pipeline: the connection auto-pipelines, so the reads of
  // concurrent events (a chat message each) share one socket write instead of one each.
  const getMany = async (ids: readonly string[]): Promise<(SessionRecord | undefined)[]> => {
    const values = await Promise.all(ids.map((id) => redis.hmget(keys.session(id), ...SESSION_FIELDS)));
    return values.map(recordOf);
  };

  return {
    getMany,
    async get(sessionId) {
      return recordOf(await redis.hmget(keys.session(sessionId), ...SESSION_FIELDS));
    },
    async *openSessions(pageSize = 1000) {
      let offset = 0;
      for (;;) {
        const ids = await redis.zrange(keys.open, String(offset), String(offset + pageSize - 1));
        if (ids.length === 0) return;
        offset += ids.length;
        yield (await getMany(ids)).filter((record): record is SessionRecord => record !== undefined);
        if (ids.length < pageSize) return;
      }
    },
    async list({ customerId, state, limit, cursor }) {
      const index = state === "open" && !customerId ? keys.open : customerId ? keys.customer(customerId) : keys.all;
      const after = cursor ? decodeCursor(cursor) : undefined;
      const items: SessionRecord[] = [];
      let max = after ? `(${after.score}` : "+inf";
      // Closed sessions expire on their own; their ids are dropped from the indexes as a page meets them.
      for (let round = 0; round < 10 && items.length < limit; round++) {
        const batch = await redis.zrange(index, max, "-inf", "BYSCORE", "REV", "LIMIT", 0, limit * 2, "WITHSCORES");
        if (batch.length === 0) break;
        const ids = batch.filter((_, i) => i % 2 === 0);
        const records = await getMany(ids);
        const gone: string[] = [];
        records.forEach((record, i) => {
          if (!record) gone.push(ids[i] as string);
          else if (items.length < limit && (!state || stateOf(record) === state)) items.push(record);
        });
        if (gone.length > 0) await redis.zrem(index, ...gone);
        max = `(${batch[batch.length - 1]}`;
        if (ids.length < limit * 2) break;
      }
      const last = items[items.length - 1];
      const lastContext = last ? (JSON.parse(last.contextJson) as SessionContext) : undefined;
      return items.length === limit && lastContext ? { items, nextCursor: encodeCursor({ score: Date.parse(lastContext.openedAt), member: lastContext.sessionId }) } : { items };
    },
  };
}

/** The fields of a session's hash that make its record, in the order {@link recordOf} takes them. */
export const SESSION_FIELDS = ["v", "ctx", "win"] as const;

/** The record in the values of {@link SESSION_FIELDS}; undefined when Redis has no such session. */
export function recordOf([version, contextJson, windowsJson]: readonly (string | null | undefined)[]): SessionRecord | undefined {
  if (!version || !contextJson) return undefined;
  return { version: Number(version), contextJson, windowsJson: windowsJson ?? "{}" };
}

// The context is serialised with `sessionId` then `state` first (session-context.ts), so the state is
// read without parsing a whole context.
const LEADING_STATE = /^\{"sessionId":"(?:[^"\\]|\\.)*","state":"(open|closed)"/;

export function stateOf(record: Pick<SessionRecord, "contextJson">): SessionContext["state"] {
  return LEADING_STATE.exec(record.contextJson)?.[1] === "closed" ? "closed" : "open";
}

export function parseRecord(record: SessionRecord): StoredSession {
  return { context: JSON.parse(record.contextJson) as SessionContext, windows: JSON.parse(record.windowsJson) as SessionWindows };
}
