import type { StoreMemory } from "../hub-module.ts";
import { createCustomerFilter, type CustomerFilter } from "./customer-filter.ts";

/**
 * An open session as this process keeps it: its answer prebuilt as bytes (`GET /v1/sessions/{id}`
 * sends them as they are; outside the V8 heap). Not its counter windows: only a change needs them,
 * and the updater has them parsed for the sessions it changed last, or reads them from Redis.
 */
export interface MirroredSession {
  sessionId: string;
  customerId: string;
  version: number;
  /** The context JSON. */
  body: Buffer;
}

/** A session version for the mirror: the context as JSON text, or as the bytes already encoded for Redis. */
export interface MirrorUpdate {
  sessionId: string;
  customerId: string;
  state: "open" | "closed";
  version: number;
  body: Buffer | string;
}

export type SessionListener = (session: MirroredSession, state: "open" | "closed") => void;

export interface SessionMirror {
  get(sessionId: string): MirroredSession | undefined;
  /**
   * Takes a newer version of a session (from this process's write or another instance's notice);
   * an older or equal one is ignored. Closed sessions leave the mirror (Redis still has them).
   * Tells the session's listeners. Answers whether it was taken.
   */
  put(update: MirrorUpdate): boolean;
  /** Ids of the sessions held. */
  ids(): IterableIterator<string>;
  /** Forgets a session that Redis no longer has open (closed while this instance missed the notice). */
  drop(sessionId: string): void;
  /** The customer's open sessions (empty when none). */
  openSessionsOf(customerId: string): readonly string[];
  /** The Bloom filter's answer: false means surely no open session. */
  mightHaveOpenSession(customerId: string): boolean;
  /** Calls `listener` on every change of every session (the live gateway's context feed). */
  listenAll(listener: SessionListener): () => void;
  /** Calls `listener` on each change of the session until the returned function is called. */
  listen(sessionId: string, listener: SessionListener): () => void;
  size(): number;
  filterStats(): ReturnType<CustomerFilter["stats"]>;
  /** The mirrored sessions (their answer bytes and windows counted) and the Bloom filter's bit array, for /godmode. */
  memoryReport(): StoreMemory[];
}

/** Per mirrored session besides its bytes: the object, two map entries, the customer index. An allowance. */
const SESSION_OVERHEAD_BYTES = 200;

const NO_SESSIONS: readonly string[] = [];

/** The open sessions of every instance, in this process: reads and filtering at memory speed. */
export function createSessionMirror(): SessionMirror {
  const sessions = new Map<string, MirroredSession>();
  const byCustomer = new Map<string, string[]>();
  const listeners = new Map<string, Set<SessionListener>>();
  // Versions of sessions that closed here, so that a late notice of an older open version does not bring one back.
  const closedAt = new Map<string, number>();
  const filter = createCustomerFilter(() => byCustomer.keys());
  // Kept as sessions come and go, so that /godmode's report is O(1): a walk of 100,000 sessions
  // took 20–30 ms of the event loop every second.
  let heldBytes = 0;
  const hold = (session: MirroredSession | undefined, sign: 1 | -1): void => {
    if (session) heldBytes += sign * bytesOf(session);
  };

  const index = (customerId: string, sessionId: string): void => {
    const list = byCustomer.get(customerId);
    if (!list) {
      byCustomer.set(customerId, [sessionId]);
      filter.add(customerId);
    } else if (!list.includes(sessionId)) list.push(sessionId);
  };
  const unindex = (customerId: string, sessionId: string): void => {
    const list = byCustomer.get(customerId)?.filter((id) => id !== sessionId);
    if (list && list.length > 0) return void byCustomer.set(customerId, list);
    byCustomer.delete(customerId);
    filter.removed();
  };
  const everyone = new Set<SessionListener>();
  const tell = (session: MirroredSession, state: "open" | "closed"): void => {
    for (const listener of listeners.get(session.sessionId) ?? []) listener(session, state);
    for (const listener of everyone) listener(session, state);
  };

  return {
    get: (sessionId) => sessions.get(sessionId),
    put({ sessionId, customerId, state, version, body }) {
      const known = sessions.get(sessionId)?.version ?? closedAt.get(sessionId) ?? 0;
      if (version <= known) return false;
      const session: MirroredSession = { sessionId, customerId, version, body: typeof body === "string" ? Buffer.from(body) : body };
      if (state === "open") {
        hold(sessions.get(sessionId), -1);
        hold(session, 1);
        sessions.set(sessionId, session);
        index(customerId, sessionId);
      } else {
        hold(sessions.get(sessionId), -1);
        if (sessions.delete(sessionId)) unindex(customerId, sessionId);
        closedAt.set(sessionId, version);
        // Bounded: only a notice racing the close needs it.
        if (closedAt.size > 10_000) closedAt.delete(closedAt.keys().next().value as string);
      }
      tell(session, state);
      return true;
    },
    ids: () => sessions.keys(),
    drop(sessionId) {
      const session = sessions.get(sessionId);
      if (!session) return;
      hold(session, -1);
      sessions.delete(sessionId);
      unindex(session.customerId, sessionId);
      tell(session, "closed");
    },
    openSessionsOf: (customerId) => byCustomer.get(customerId) ?? NO_SESSIONS,
    mightHaveOpenSession: (customerId) => filter.mightContain(customerId),
    listenAll(listener) {
      everyone.add(listener);
      return () => everyone.delete(listener);
    },
    listen(sessionId, listener) {
      let set = listeners.get(sessionId);
      if (!set) listeners.set(sessionId, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(sessionId);
      };
    },
    size: () => sessions.size,
    filterStats: () => filter.stats(),
    memoryReport() {
      const { added, bits } = filter.stats();
      return [
        { store: "session mirror", entries: sessions.size, bytes: heldBytes, estimated: true },
        // bloomfilter keeps its bits in an Int32Array: bits / 8 bytes, counted.
        { store: "Bloom filter (customers)", entries: added, bytes: Math.ceil(bits / 32) * 4, estimated: false },
      ];
    },
  };
}

/** A mirrored session's bytes: `body` is off the V8 heap (a Buffer); the id strings take a byte a character when ASCII. */
function bytesOf(session: MirroredSession): number {
  return session.body.length + session.sessionId.length + session.customerId.length + SESSION_OVERHEAD_BYTES;
}
