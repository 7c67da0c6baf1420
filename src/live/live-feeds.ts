import type { Logger } from "pino";
import type { AcceptedEvent } from "../events/hub-event.ts";
import type { MirroredSession } from "../sessions/session-mirror.ts";
import type { ChannelHistory } from "./channel-history.ts";
import type { LocalFanout } from "./local-fanout.ts";

/**
 * What the rest of the hub publishes to live channels: each accepted event's assignments (part of
 * the events hand-off, so recovery repeats a lost one and its event id keeps it single), and every
 * session change as a `context` publication (each instance learns changes itself, so context goes
 * to local subscribers only and is not stored).
 */
export function createLiveFeeds({ history, fanout, logger }: { history: ChannelHistory; fanout: LocalFanout; logger: Logger }) {
  return {
    async onAccepted(accepted: readonly AcceptedEvent[]): Promise<void> {
      // Most events publish nothing: they cost no promise.
      if (!accepted.some(({ event }) => event.type === "chat.session.opened" || event.type === "ticket.assigned")) return;
      await Promise.all(accepted.map(async ({ event }) => {
        if (event.type === "chat.session.opened" && event.routing) {
          const data = { kind: "assignment", sessionId: event.data["sessionId"], customer: event.data["customer"], routing: event.routing, eventId: event.id };
          await history.publish(`queue:${event.routing.queue}`, JSON.stringify(data), { idempotencyId: event.id });
        } else if (event.type === "ticket.assigned") {
          const assignee = event.data["assignee"] as { agentId: string };
          const data = { kind: "assignment", ticketId: event.data["ticketId"], assignee, eventId: event.id };
          await history.publish(`agent:${assignee.agentId}`, JSON.stringify(data), { idempotencyId: event.id });
        }
      }));
    },
    onSessionChange(session: MirroredSession, state: "open" | "closed"): void {
      const channel = `session:${session.sessionId}`;
      // Most changes are of sessions no live connection here watches (every session at start-up
      // load): the context's text is not copied for them.
      if (fanout.listened(channel)) fanout.deliver({ channel, offset: fanout.lastOffset(channel), dataJson: `{"kind":"context","version":${session.version},"context":${session.body.toString()}}` });
      if (state === "closed") {
        // Every instance hears the close; the idempotency id keeps it one publication.
        history.publish(channel, JSON.stringify({ kind: "closed", sessionId: session.sessionId }), { idempotencyId: "closed" }).catch((error: unknown) => logger.warn({ err: error, channel }, "live: could not publish a session's close"));
      }
    },
  };
}
