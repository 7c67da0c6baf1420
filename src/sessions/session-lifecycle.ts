import type { Logger } from "pino";
import type { AcceptedEvent, CompanionRead, HubEvent } from "../events/hub-event.ts";
import type { Fusion } from "./fusion.ts";
import type { SessionKeys } from "./session-keys.ts";
import type { SessionMirror } from "./session-mirror.ts";
import { recordOf, SESSION_FIELDS, type SessionRecord } from "./session-store.ts";
import type { SessionUpdater } from "./session-updater.ts";
import type { StoredSession } from "./session-types.ts";

export const CHAT_EVENT_TYPES = ["chat.session.opened", "chat.message.created", "chat.session.closed"] as const;

export interface SessionLifecycleOptions {
  updater: SessionUpdater;
  /** Which sessions are held here: a chat event of one not held reads it (planned with its accept). */
  mirror: Pick<SessionMirror, "versionOf">;
  keys: Pick<SessionKeys, "session">;
  fusion: () => Fusion;
  /** The CRM profile of a customer, behind the order context's cache and breaker; null when the CRM has none. */
  profileOf: (customerId: string) => Promise<Record<string, unknown> | null>;
  logger: Logger;
  now?: () => number;
}

/** The chat events' side of the events hand-off (wired in src/app.ts). */
export interface SessionLifecycle {
  /**
   * The read a new event's change needs, for the accept script to make with it: the session of a
   * message or a close that this instance does not hold. Undefined when none is needed.
   */
  readFor(accepted: AcceptedEvent): CompanionRead | undefined;
  /** Applies accepted chat events; `read` is what {@link readFor}'s read found, for one event. */
  onAccepted(events: readonly AcceptedEvent[], read?: readonly (string | null)[]): Promise<void>;
}

/**
 * Opens, updates and closes sessions from accepted chat events. Wired as part of the events
 * hand-off (src/app.ts), so that a crash before a session saw its event is repaired by the
 * hand-off's recovery; each event applies once (its id is consumed with its change).
 */
export function createSessionLifecycle({ updater, mirror, keys, fusion, profileOf, logger, now = Date.now }: SessionLifecycleOptions): SessionLifecycle {
  const attachProfile = async (sessionId: string, customerId: string, eventId: string): Promise<void> => {
    const profile = await profileOf(customerId);
    await updater.change(sessionId, [`profile:${eventId}`], (current) => {
      if (!current || current.context.state !== "open") return undefined;
      const customer = { ...current.context.customer, profile };
      return fusion().refresh({ ...current, context: { ...current.context, customer } }, now());
    });
  };

  const apply = async (event: HubEvent, read?: { record: SessionRecord | undefined }): Promise<void> => {
    const sessionId = event.data["sessionId"];
    if (typeof sessionId !== "string") return;
    if (event.type === "chat.session.opened") {
      const { outcome } = await updater.change(sessionId, [event.id], (current) => (current?.context.state === "open" ? undefined : fusion().refresh(openedSession(event), now())));
      const customerId = (event.data["customer"] as { id: string }).id;
      if (outcome === "applied") {
        attachProfile(sessionId, customerId, event.id).catch((error: unknown) => logger.warn({ err: error, sessionId, customerId }, "could not attach the CRM profile to a session; it stays without one"));
      }
    } else if (event.type === "chat.message.created") {
      const { outcome } = await updater.changeExisting(sessionId, [event.id], (current) =>
        current?.context.state === "open" ? { ...current, context: { ...current.context, lastMessageAt: event.occurredAt, messageCount: current.context.messageCount + 1 } } : undefined,
      read);
      if (outcome === "unchanged") logger.debug({ sessionId, eventId: event.id }, "chat message for a session that is not open; the session is not changed");
    } else if (event.type === "chat.session.closed") {
      await updater.changeExisting(sessionId, [event.id], (current) =>
        current?.context.state === "open" ? { ...current, context: { ...current.context, state: "closed", closedAt: event.occurredAt } } : undefined,
      read);
    }
  };

  return {
    readFor({ event }) {
      const sessionId = event.data["sessionId"];
      if (typeof sessionId !== "string" || (event.type !== "chat.message.created" && event.type !== "chat.session.closed")) return undefined;
      return mirror.versionOf(sessionId) === undefined ? { key: keys.session(sessionId), fields: SESSION_FIELDS } : undefined;
    },
    async onAccepted(accepted, read) {
      // POST /v1/events hands over one event at a time: it needs no grouping.
      const [only] = accepted;
      if (accepted.length === 1 && only) return apply(only.event, read ? { record: recordOf(read) } : undefined);
      const chat = accepted.filter(({ event }) => (CHAT_EVENT_TYPES as readonly string[]).includes(event.type));
      // One session's events in accept order; sessions in parallel.
      const bySession = new Map<string, HubEvent[]>();
      for (const { event } of chat) {
        const key = String(event.data["sessionId"]);
        bySession.set(key, [...(bySession.get(key) ?? []), event]);
      }
      await Promise.all([...bySession.values()].map(async (events) => {
        for (const event of events) await apply(event);
      }));
    },
  };
}

function openedSession(event: HubEvent): StoredSession {
  const data = event.data as { sessionId: string; channel: string; customer: { id: string; name?: string }; orderId?: string };
  // `sessionId` and `state` lead the JSON: session-store.ts reads the state from there.
  return {
    windows: {},
    context: {
      sessionId: data.sessionId,
      state: "open",
      channel: data.channel,
      customer: { id: data.customer.id, ...(data.customer.name ? { name: data.customer.name } : {}), profile: null },
      orderId: data.orderId ?? null,
      risk: { level: "low", reasons: [] },
      behavior: { recent: [], counters: {}, latest: {} },
      routing: event.routing ?? null,
      openedAt: event.occurredAt,
      lastMessageAt: null,
      messageCount: 0,
      closedAt: null,
      version: 0,
      updatedAt: event.occurredAt,
    },
  };
}
