import { createParsedSessions } from "./parsed-sessions.ts";
import type { SessionMirror } from "./session-mirror.ts";
import { parseRecord, stateOf, type SessionRecord, type SessionStore } from "./session-store.ts";
import type { StoredSession } from "./session-types.ts";
import type { ApplyOutcome, SessionChange, SessionWriter } from "./session-writer.ts";
import { createWindowsJson } from "./windows-json.ts";

/**
 * Computes a session's next state from its current one (undefined: there is none), given the ids
 * of the change that are not applied yet. Answers undefined when nothing changes. Must not modify
 * `current`: it may be the parsed state held for the session's next change.
 */
export type SessionMutation = (current: StoredSession | undefined, pendingIds: ReadonlySet<string>) => StoredSession | undefined;

export type ChangeOutcome = "applied" | "duplicate" | "unchanged";

export interface ChangeResult {
  outcome: ChangeOutcome;
  /** The ids that had been applied before (a redelivery); the rest were applied now, or were not needed. */
  duplicates: ReadonlySet<string>;
}

export interface ChangeRequest {
  sessionId: string;
  ids: readonly string[];
  mutate: SessionMutation;
}

export interface SessionUpdater {
  /** Applies `ids` to a session once, with `mutate`; retried on a concurrent write. */
  change(sessionId: string, ids: readonly string[], mutate: SessionMutation): Promise<ChangeResult>;
  /**
   * As `change`, for a change that only ever alters a session that exists (its `mutate` answers
   * undefined without one: a chat message, a close). A session neither held nor being changed here
   * costs one read, and nothing more when Redis has none; `read` is that read when the caller made
   * it already (the accept script's companion read).
   */
  changeExisting(sessionId: string, ids: readonly string[], mutate: SessionMutation, read?: { record: SessionRecord | undefined }): Promise<ChangeResult>;
  /**
   * As `change` for several sessions (distinct ids), one Redis call per attempt; results in order.
   * May be called again before it resolved: a session's changes are applied in the order of the calls.
   */
  changeMany(requests: readonly ChangeRequest[]): Promise<ChangeResult[]>;
}

export interface SessionUpdaterOptions {
  store: SessionStore;
  write: SessionWriter;
  mirror: SessionMirror;
  now?: () => number;
  /** Attempts against concurrent writers before giving up (the caller's source redelivers). @defaultValue 8 */
  maxAttempts?: number;
  /** Sessions whose parsed state is kept for their next change (parsed-sessions.ts). @defaultValue 5000 */
  parsedSessionsMax?: number;
}

interface Current {
  version: number;
  session: StoredSession;
}

interface Attempt {
  request: ChangeRequest;
  pending: Set<string>;
  duplicates: Set<string>;
  current: Current | undefined;
  result?: ChangeResult;
}

const NONE: ReadonlySet<string> = new Set();

/**
 * Optimistic writes: the next state is computed in process from the mirrored (or stored) one and
 * written only if Redis is still at that version and none of the ids was applied; the script
 * answers where the session is otherwise, and the change is computed again from there.
 */
export function createSessionUpdater({ store, write, mirror, now = Date.now, maxAttempts = 8, parsedSessionsMax = 5000 }: SessionUpdaterOptions): SessionUpdater {
  const parsed = createParsedSessions(parsedSessionsMax);
  const windowsJson = createWindowsJson();

  const parsedCurrent = (record: SessionRecord): Current => ({ version: record.version, session: parseRecord(record) });

  /**
   * Each session's current state: held parsed at the mirrored version, else read from Redis (in one
   * round trip for the batch): after a start, or when another instance changed it last.
   */
  const load = async (sessionIds: readonly string[]): Promise<(Current | undefined)[]> => {
    const currents: (Current | undefined)[] = [];
    const unknown: number[] = [];
    sessionIds.forEach((sessionId, index) => {
      const version = mirror.versionOf(sessionId);
      const session = version === undefined ? undefined : parsed.get(sessionId, version);
      if (version !== undefined && session) currents[index] = { version, session };
      else unknown.push(index);
    });
    if (unknown.length > 0) {
      const records = await store.getMany(unknown.map((index) => sessionIds[index] as string));
      unknown.forEach((index, k) => {
        const record = records[k];
        currents[index] = record ? parsedCurrent(record) : undefined;
      });
    }
    return currents;
  };

  const settle = (attempt: Attempt, change: SessionChange, outcome: ApplyOutcome): void => {
    const { sessionId } = attempt.request;
    if (outcome.kind === "applied") {
      const { context } = change.next;
      mirror.put({ sessionId, customerId: context.customer.id, state: context.state, version: outcome.version, body: outcome.body });
      if (context.state === "open") parsed.set(sessionId, outcome.version, change.next);
      else parsed.delete(sessionId);
      attempt.result = { outcome: "applied", duplicates: attempt.duplicates };
    } else if (outcome.kind === "duplicate") {
      for (const id of outcome.ids) {
        attempt.pending.delete(id);
        attempt.duplicates.add(id);
      }
      if (attempt.pending.size === 0) attempt.result = { outcome: "duplicate", duplicates: attempt.duplicates };
    } else {
      const record = outcome.current;
      attempt.current = record ? parsedCurrent(record) : undefined;
      if (record && attempt.current) {
        const { context } = attempt.current.session;
        mirror.put({ sessionId, customerId: context.customer.id, state: stateOf(record), version: record.version, body: record.contextJson });
      }
    }
  };

  /** The next state of every unsettled session, as changes to write; settles those that do not change. */
  const compute = (attempts: readonly Attempt[]): { attempt: Attempt; change: SessionChange }[] => {
    const writes: { attempt: Attempt; change: SessionChange }[] = [];
    const updatedAt = new Date(now()).toISOString();
    for (const attempt of attempts) {
      if (attempt.result) continue;
      const next = attempt.request.mutate(attempt.current?.session, attempt.pending);
      if (!next) {
        attempt.result = { outcome: "unchanged", duplicates: attempt.duplicates };
        continue;
      }
      const expectedVersion = attempt.current?.version ?? 0;
      const previousState = attempt.current?.session.context.state;
      const change = {
        next: { ...next, context: { ...next.context, version: expectedVersion + 1, updatedAt } },
        windowsJson: windowsJson(next.windows, attempt.current?.session.windows),
        expectedVersion,
        previousState,
        ids: [...attempt.pending],
      };
      writes.push({ attempt, change });
    }
    return writes;
  };

  const changeNow = async (requests: readonly ChangeRequest[]): Promise<ChangeResult[]> => {
    const currents = await load(requests.map((request) => request.sessionId));
    const attempts: Attempt[] = requests.map((request, index) => ({ request, pending: new Set(request.ids), duplicates: new Set(), current: currents[index] }));
    for (let round = 0; round < maxAttempts; round++) {
      const writes = compute(attempts);
      if (writes.length === 0) break;
      const outcomes = await write(writes.map(({ change }) => change));
      writes.forEach(({ attempt, change }, index) => settle(attempt, change, outcomes[index] as ApplyOutcome));
    }
    const unsettled = attempts.find((attempt) => !attempt.result);
    if (unsettled) throw new Error(`session ${unsettled.request.sessionId} kept changing under ${maxAttempts} attempts; the change is retried by its source`);
    return attempts.map((attempt) => attempt.result as ChangeResult);
  };

  // The latest change under way of each session: a change of that session starts once it is
  // settled (from the state it wrote, not the one before, which would only conflict), while the
  // sessions of the same call that have none under way are written at once. So a source may
  // apply its next batch while the previous one is being written, and each session still sees
  // its changes in the order of the calls.
  const underWay = new Map<string, Promise<void>>();

  const changeMany = async (requests: readonly ChangeRequest[]): Promise<ChangeResult[]> => {
    const earlier = new Set<Promise<void>>();
    const free: number[] = [];
    const waiting: number[] = [];
    let settled = (): void => undefined;
    const mine = new Promise<void>((resolve) => (settled = resolve));
    requests.forEach(({ sessionId }, index) => {
      const previous = underWay.get(sessionId);
      if (previous) earlier.add(previous);
      (previous ? waiting : free).push(index);
      underWay.set(sessionId, mine);
    });
    const part = async (indexes: readonly number[], after?: Promise<unknown>): Promise<ChangeResult[]> => {
      if (indexes.length === 0) return [];
      await after;
      return changeNow(indexes.map((index) => requests[index] as ChangeRequest));
    };
    try {
      // Both parts settle before this call does, even when one fails: what follows them waits for both.
      const [now, later] = (await Promise.allSettled([part(free), part(waiting, Promise.all(earlier))])).map((outcome) => {
        if (outcome.status === "rejected") throw outcome.reason;
        return outcome.value;
      }) as [ChangeResult[], ChangeResult[]];
      const results: ChangeResult[] = [];
      free.forEach((index, k) => (results[index] = now[k] as ChangeResult));
      waiting.forEach((index, k) => (results[index] = later[k] as ChangeResult));
      return results;
    } finally {
      for (const { sessionId } of requests) if (underWay.get(sessionId) === mine) underWay.delete(sessionId);
      settled();
    }
  };

  const change = async (sessionId: string, ids: readonly string[], mutate: SessionMutation): Promise<ChangeResult> => {
    const [result] = await changeMany([{ sessionId, ids, mutate }]);
    return result as ChangeResult;
  };

  return {
    changeMany,
    change,
    async changeExisting(sessionId, ids, mutate, read) {
      // Most messages of sessions not held here are of sessions that are not open anywhere (a chat
      // system posts every message, not only those of sessions it opened through the hub): they are
      // settled by the read alone, without the bookkeeping that orders a session's changes. A read
      // that finds none while a change of the session started here meanwhile is still right: that
      // change was accepted after this one.
      if (mirror.versionOf(sessionId) === undefined && !underWay.has(sessionId)) {
        const record = read ? read.record : (await store.getMany([sessionId]))[0];
        if (!record) return { outcome: "unchanged", duplicates: NONE };
      }
      return change(sessionId, ids, mutate);
    },
  };
}
