import { createHash } from "node:crypto";
import { isHubError } from "../http/errors.ts";
import type { ChannelHistory } from "./channel-history.ts";
import type { LivePrincipal } from "./live-token.ts";

export type IngestEvent = (event: { id: string; type: string; occurredAt: string; source: string; data: Record<string, unknown> }) => Promise<unknown>;

/** A message on its way: the history append started at once, the event ingest when the connection calls it. */
export interface PostedMessage {
  published: Promise<{ offset: number }>;
  ingest(): Promise<void>;
}

/**
 * A `message` frame: appended to the session's history (published to its subscribers) at once,
 * and ingested as chat.message.created (so that webhooks and sessions see it) alongside, instead
 * of before: the agent sees the message without waiting for the event's store, routing and
 * hand-off. The frame is acked only when both are done. The event id and the history's
 * idempotency id both come from `clientMessageId`, so a resend after a failure or crash in either
 * half finishes the missing one and stores and delivers each once.
 */
export function createMessagePoster(history: ChannelHistory, ingest: IngestEvent) {
  return (principal: LivePrincipal, { sessionId, text, clientMessageId }: { sessionId: string; text: string; clientMessageId: string }): PostedMessage => {
    const digest = createHash("sha256").update(`${sessionId}\n${principal.role}:${principal.id}\n${clientMessageId}`).digest("base64url").slice(0, 22);
    const messageId = `LM-${digest}`;
    const sender = { type: principal.role === "visitor" ? "customer" : "agent", id: principal.id };
    const sentAt = new Date().toISOString();
    const data = { kind: "message", messageId, sessionId, sender, text, clientMessageId, sentAt };
    const published = history.publish(`session:${sessionId}`, JSON.stringify(data), { idempotencyId: `message:${digest}` }).then(({ offset }) => ({ offset }));
    return {
      published,
      async ingest() {
        try {
          await ingest({ id: `evt_live-${digest}`, type: "chat.message.created", occurredAt: sentAt, source: "kefu-live", data: { sessionId, messageId, sender, text } });
        } catch (error) {
          // Ingested by an earlier attempt (with its own time): nothing left to do.
          if (!(isHubError(error) && error.code === "idempotency_conflict")) throw error;
        }
      },
    };
  };
}
