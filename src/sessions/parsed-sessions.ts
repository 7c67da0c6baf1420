import type { StoredSession } from "./session-types.ts";

/**
 * The parsed state of the sessions this instance changed last, each at the version it was written
 * as, so that the next change of a busy session starts from objects instead of parsing its JSON
 * again (the largest cost of applying an event, in bench/sessions.ts). Bounded, least recently
 * changed out first: the mirror keeps every open session as bytes, this only the hot ones.
 */
export interface ParsedSessions {
  /** The session as parsed at `version`; undefined when not held at that version. */
  get(sessionId: string, version: number): StoredSession | undefined;
  set(sessionId: string, version: number, session: StoredSession): void;
  delete(sessionId: string): void;
  size(): number;
}

/** @param max sessions held at most. */
export function createParsedSessions(max: number): ParsedSessions {
  // A Map iterates in insertion order: re-inserting on every write makes the first key the coldest.
  const held = new Map<string, { version: number; session: StoredSession }>();
  return {
    get(sessionId, version) {
      const entry = held.get(sessionId);
      return entry?.version === version ? entry.session : undefined;
    },
    set(sessionId, version, session) {
      held.delete(sessionId);
      held.set(sessionId, { version, session });
      if (held.size > max) held.delete(held.keys().next().value as string);
    },
    delete: (sessionId) => void held.delete(sessionId),
    size: () => held.size,
  };
}
