import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { decodeChangeNotices, isFrom, noticeOrigin } from "./change-notice.ts";
import type { SessionMirror } from "./session-mirror.ts";
import { parseRecord, type SessionStore } from "./session-store.ts";

export interface SessionSyncOptions {
  store: SessionStore;
  mirror: SessionMirror;
  /** A connection of its own: a subscribed connection can do nothing else. */
  subscriber: Redis;
  changesChannel: string;
  /** This instance's id, as its writer puts it on its notices: those are mirrored already. */
  instanceId: string;
  /** Whether sessions loaded from Redis start packed (KEFU_SESSIONS_PACK_IDLE_SECONDS not 0): nobody reads them yet. */
  loadPacked: boolean;
  /** Other channels to hear on the same connection (the fusion document's), with their handler. */
  also?: Record<string, () => void>;
  logger: Logger;
}

export interface SessionSync {
  /** Subscribes, then loads every open session (in that order, so that no change falls in between). */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Keeps this instance's mirror on Redis: each change arrives as a notice over pub/sub; after a
 * reconnect, when notices may have been lost, every open session is loaded again and the ones
 * Redis no longer has open are dropped.
 */
export function createSessionSync({ store, mirror, subscriber, changesChannel, instanceId, loadPacked, also = {}, logger }: SessionSyncOptions): SessionSync {
  let listening = false;
  const own = noticeOrigin(instanceId);

  const reload = async (): Promise<void> => {
    const open = new Set<string>();
    for await (const page of store.openSessions()) {
      for (const record of page) {
        const { context } = parseRecord(record);
        open.add(context.sessionId);
        mirror.put({ sessionId: context.sessionId, customerId: context.customer.id, state: context.state, version: record.version, body: record.contextJson, idle: loadPacked });
      }
    }
    for (const sessionId of [...mirror.ids()]) if (!open.has(sessionId)) mirror.drop(sessionId);
    logger.debug({ open: open.size }, "sessions: open sessions loaded");
  };

  // As bytes: ioredis decodes a message to a string only for "message" listeners, and this
  // instance's own notices (most of them, for a single instance) need no decoding at all.
  const onMessage = (channelBytes: Buffer, message: Buffer): void => {
    const channel = channelBytes.toString();
    if (channel !== changesChannel) return also[channel]?.();
    if (isFrom(message, own)) return;
    const notices = decodeChangeNotices(message.toString());
    if (!notices) return void logger.warn({ channel }, "sessions: unreadable change notice ignored");
    for (const notice of notices) {
      mirror.put({ sessionId: notice.sessionId, customerId: notice.customerId, state: notice.state, version: notice.version, body: notice.contextJson });
    }
  };

  return {
    async start() {
      if (!listening) {
        listening = true;
        subscriber.on("messageBuffer", onMessage);
        let first = subscriber.status !== "ready";
        subscriber.on("ready", () => {
          // The first "ready" is the start's own connection; later ones are reconnects.
          if (first) return void (first = false);
          reload().catch((error: unknown) => logger.error({ err: error }, "sessions: reload after reconnect failed; the next reconnect retries"));
          for (const handler of Object.values(also)) handler();
        });
      }
      await subscriber.subscribe(changesChannel, ...Object.keys(also));
      await reload();
    },
    close() {
      subscriber.off("messageBuffer", onMessage);
      return Promise.resolve();
    },
  };
}
