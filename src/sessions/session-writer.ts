import type { Redis } from "ioredis";
import { defineLuaCommand } from "../redis/lua-command.ts";
import { noticeHeader } from "./change-notice.ts";
import type { SessionKeys } from "./session-keys.ts";
import type { SessionRecord } from "./session-store.ts";
import type { StoredSession } from "./session-types.ts";

export interface SessionChange {
  /** Its context carries the version it is written as (`expectedVersion + 1`). */
  next: StoredSession;
  /** `next.windows` as JSON when already built (windows-json.ts); else the writer serialises them. */
  windowsJson?: string;
  /** The version `next` was computed from (0: a new session). */
  expectedVersion: number;
  /** The session's state at `expectedVersion` (undefined: a new session); one open before and after is not re-indexed. */
  previousState: StoredSession["context"]["state"] | undefined;
  /** Ids of what this change applies (events, the profile's arrival): each is applied once. */
  ids: readonly string[];
}

export type ApplyOutcome =
  /** Written; `body` is the context JSON as sent to Redis, for the mirror to keep as it is. */
  | { kind: "applied"; version: number; body: Buffer }
  /** Some ids were applied before (a redelivery): nothing was written. */
  | { kind: "duplicate"; ids: string[] }
  /** The session moved on meanwhile (another instance): nothing was written; here is where it is. */
  | { kind: "conflict"; current: SessionRecord | undefined };

/** Writes a batch of session changes; one outcome per change, in order. */
export type SessionWriter = (changes: readonly SessionChange[]) => Promise<ApplyOutcome[]>;

export interface SessionWriterOptions {
  keys: SessionKeys;
  /** How long a closed session stays readable. */
  retainSeconds: number;
  /** This instance's id: the first line of the notices it publishes, so that it can skip them. */
  instanceId: string;
}

interface WriterCommands {
  kefuApplySessions(numberOfKeys: number, ...args: (string | number | Buffer)[]): Promise<(string | number)[][]>;
}

/**
 * One call of lua/apply-sessions.lua per batch: each context is serialised once, sent once (the
 * script builds the change notice from what it stores) and kept by the mirror as those very bytes.
 */
export function createSessionWriter(redis: Redis, { keys, retainSeconds, instanceId }: SessionWriterOptions): SessionWriter {
  defineLuaCommand(redis, "kefuApplySessions", new URL("./lua/apply-sessions.lua", import.meta.url));
  const commands = redis as unknown as WriterCommands;

  return async (changes) => {
    if (changes.length === 0) return [];
    const keyArgs: string[] = [keys.open, keys.all];
    const args: (string | number | Buffer)[] = [retainSeconds, keys.changes, instanceId];
    const written = changes.map(({ next, windowsJson: builtWindows, expectedVersion, previousState, ids }) => {
      const { context } = next;
      const body = Buffer.from(JSON.stringify(context));
      const windowsJson = builtWindows ?? JSON.stringify(next.windows);
      const header = noticeHeader({ sessionId: context.sessionId, version: context.version, state: context.state, customerId: context.customer.id });
      keyArgs.push(keys.session(context.sessionId), keys.applied(context.sessionId), keys.customer(context.customer.id));
      args.push(expectedVersion, body, windowsJson, context.state, previousState ?? "", Date.parse(context.openedAt), context.sessionId, header, ids.length, ...ids);
      return body;
    });
    const answers = await commands.kefuApplySessions(keyArgs.length, ...keyArgs, ...args);
    return answers.map((answer, index): ApplyOutcome => {
      const [status, version] = answer as [number, number, ...string[]];
      if (status === 1) return { kind: "applied", version, body: written[index] as Buffer };
      if (status === 0) return { kind: "duplicate", ids: answer.slice(2).map(String) };
      const [, , contextJson, windowsJson] = answer as [number, number, string, string];
      return { kind: "conflict", current: contextJson ? { version, contextJson, windowsJson: windowsJson || "{}" } : undefined };
    });
  };
}
