import type { SessionContext } from "./session-types.ts";

/**
 * A change as it travels over pub/sub. lua/apply-sessions.lua publishes one message per batch:
 * the writing instance's id on the first line, then two lines per applied change: a header
 * (`[sessionId, version, state, customerId]`) and the context JSON (JSON.stringify never writes a
 * raw newline). Not the counter windows: they can be large (up to `max` times per counter), and
 * only an instance that changes the session needs them, from Redis. The writer already mirrored its
 * own changes, so it skips the message by its first line without decoding it; others read the
 * headers without parsing the contexts.
 */
export interface ChangeNotice {
  sessionId: string;
  version: number;
  state: SessionContext["state"];
  customerId: string;
  contextJson: string;
}

/** The header line of one change in a notice. */
export function noticeHeader({ sessionId, version, state, customerId }: Pick<ChangeNotice, "sessionId" | "version" | "state" | "customerId">): string {
  return JSON.stringify([sessionId, version, state, customerId]);
}

/** The first line of this instance's notices, as bytes, to recognise them before decoding. */
export function noticeOrigin(instanceId: string): Buffer {
  return Buffer.from(`${instanceId}\n`);
}

/** Whether `message` was published by the instance whose `noticeOrigin` is `origin`. */
export function isFrom(message: Buffer, origin: Buffer): boolean {
  return message.length >= origin.length && message.compare(origin, 0, origin.length, 0, origin.length) === 0;
}

/** The changes of a notice; undefined for one this version of the hub cannot read. */
export function decodeChangeNotices(message: string): ChangeNotice[] | undefined {
  const lines = message.split("\n");
  if (lines.length < 3 || (lines.length - 1) % 2 !== 0) return undefined;
  const notices: ChangeNotice[] = [];
  for (let line = 1; line < lines.length; line += 2) {
    const notice = decodeOne(lines[line] as string, lines[line + 1] as string);
    if (!notice) return undefined;
    notices.push(notice);
  }
  return notices;
}

function decodeOne(header: string, contextJson: string): ChangeNotice | undefined {
  try {
    const [sessionId, version, state, customerId] = JSON.parse(header) as [string, number, SessionContext["state"], string];
    if (typeof sessionId !== "string" || typeof version !== "number" || typeof customerId !== "string") return undefined;
    return { sessionId, version, state, customerId, contextJson };
  } catch {
    return undefined;
  }
}
