import type { StoreMemory } from "../hub-module.ts";
import { createCustomerFilter, type CustomerFilter } from "./customer-filter.ts";
import { createSessionPacker } from "./session-packing.ts";

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
  /** Keep it packed from the start: loaded from Redis, not in use yet (session-sync.ts). @defaultValue false */
  idle?: boolean;
}

export type SessionListener = (session: MirroredSession, state: "open" | "closed") => void;

export interface SessionMirror {
  /** The session with its bytes (unpacked if it was idle). */
  get(sessionId: string): MirroredSession | undefined;
  /** Whether the session is open here; never unpacks. */
  has(sessionId: string): boolean;
  /** The version held; never unpacks. */
  versionOf(sessionId: string): number | undefined;
  /**
   * Packs sessions nobody read since the previous pass (a clock sweep: a read gives a session a
   * second chance). Walks at most `scan` sessions (each once) from where the last call stopped and
   * packs at most `pack` of them; answers how many it packed.
   */
  packIdle(scan: number, pack: number): number;
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

/** Per mirrored session besides its bytes: the entry, two map entries, the customer index. An allowance. */
const SESSION_OVERHEAD_BYTES = 200;

const NO_SESSIONS: readonly string[] = [];

/** An open session as held: its bytes while in use, packed (session-packing.ts) while idle. */
interface Held {
  customerId: string;
  version: number;
  /** The JSON's byte length. */
  size: number;
  session: MirroredSession | undefined;
  packed: string | undefined;
  /** Read since the packer's last pass. */
  used: boolean;
}

/** The open sessions of every instance, in this process: reads and filtering at memory speed. */
export function createSessionMirror(): SessionMirror {
  const sessions = new Map<string, Held>();
  const byCustomer = new Map<string, string[]>();
  const listeners = new Map<string, Set<SessionListener>>();
  // Versions of sessions that closed here, so that a late notice of an older open version does not bring one back.
  const closedAt = new Map<string, number>();
  const filter = createCustomerFilter(() => byCustomer.keys());
  const packer = createSessionPacker();
  // Where packIdle() goes on from: a pass over 100,000 sessions is spread over many calls.
  let sweep = sessions.entries();
  // Kept as sessions come and go, so that /godmode's report is O(1): a walk of 100,000 sessions
  // took 20–30 ms of the event loop every second.
  let heldBytes = 0;
  const hold = (sessionId: string, held: Held | undefined, sign: 1 | -1): void => {
    if (held) heldBytes += sign * bytesOf(sessionId, held);
  };
  const unpacked = (sessionId: string, held: Held): MirroredSession => {
    if (held.session) return held.session;
    hold(sessionId, held, -1);
    held.session = { sessionId, customerId: held.customerId, version: held.version, body: packer.unpack(held.packed ?? "", held.size) };
    held.packed = undefined;
    hold(sessionId, held, 1);
    return held.session;
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
    get(sessionId) {
      const held = sessions.get(sessionId);
      if (!held) return undefined;
      held.used = true;
      return held.session ?? unpacked(sessionId, held);
    },
    has: (sessionId) => sessions.has(sessionId),
    versionOf: (sessionId) => sessions.get(sessionId)?.version,
    put({ sessionId, customerId, state, version, body, idle = false }) {
      const known = sessions.get(sessionId)?.version ?? closedAt.get(sessionId) ?? 0;
      if (version <= known) return false;
      const session: MirroredSession = { sessionId, customerId, version, body: typeof body === "string" ? Buffer.from(body) : body };
      hold(sessionId, sessions.get(sessionId), -1);
      if (state === "open") {
        const held: Held = idle
          ? { customerId, version, size: session.body.length, session: undefined, packed: packer.pack(session.body), used: false }
          : // A change counts as a use: a busy session is not packed between its changes.
            { customerId, version, size: session.body.length, session, packed: undefined, used: true };
        hold(sessionId, held, 1);
        sessions.set(sessionId, held);
        index(customerId, sessionId);
      } else {
        if (sessions.delete(sessionId)) unindex(customerId, sessionId);
        closedAt.set(sessionId, version);
        // Bounded: only a notice racing the close needs it.
        if (closedAt.size > 10_000) closedAt.delete(closedAt.keys().next().value as string);
      }
      tell(session, state);
      return true;
    },
    packIdle(scan, pack) {
      let packed = 0;
      // At most one visit per session and call, so that the second chance lasts until the next call.
      const visits = Math.min(scan, sessions.size);
      for (let seen = 0; seen < visits && packed < pack; seen++) {
        let next = sweep.next();
        if (next.done) {
          sweep = sessions.entries();
          next = sweep.next();
          if (next.done) break;
        }
        const [sessionId, held] = next.value;
        if (!held.session) continue;
        if (held.used) {
          held.used = false;
          continue;
        }
        hold(sessionId, held, -1);
        held.packed = packer.pack(held.session.body);
        held.session = undefined;
        hold(sessionId, held, 1);
        packed++;
      }
      return packed;
    },
    ids: () => sessions.keys(),
    drop(sessionId) {
      const held = sessions.get(sessionId);
      if (!held) return;
      const session = unpacked(sessionId, held);
      hold(sessionId, held, -1);
      sessions.delete(sessionId);
      unindex(held.customerId, sessionId);
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

/** A held session's bytes: its JSON (a Buffer, off the V8 heap) or its packed string; the id strings take a byte a character when ASCII. */
function bytesOf(sessionId: string, held: Held): number {
  const own = held.session ? held.session.body.length : (held.packed?.length ?? 0);
  return own + sessionId.length + held.customerId.length + SESSION_OVERHEAD_BYTES;
}
