export const EVENT_PRIORITIES = ["urgent", "high", "normal", "low"] as const;
export type EventPriority = (typeof EVENT_PRIORITIES)[number];

/** The routing decision attached to ticket and chat events by src/routing before delivery. */
export interface RoutingDecision {
  businessLine: string;
  queue: string;
  agentGroup: string;
  priority: EventPriority;
  tags: string[];
  slaMinutes: number;
  matchedRules: string[];
  rulesetVersion: number;
  degraded: boolean;
}

/** An accepted event: the envelope of DESIGN.md with `id` filled in. */
export interface HubEvent {
  id: string;
  type: string;
  /** ISO 8601. */
  occurredAt: string;
  source: string;
  priority: EventPriority;
  data: Record<string, unknown>;
  /** Set by routing for ticket.created, ticket.updated and chat.session.opened. */
  routing?: RoutingDecision;
}

/**
 * A step run on every accepted event before fan-out (routing is one). It may return a changed
 * copy (e.g. with `routing` set or a raised `priority`). It must not throw for a business reason:
 * it degrades instead.
 */
export type EventEnricher = (event: HubEvent) => Promise<HubEvent>;

/** Told of every newly accepted event after it is stored (e.g. to invalidate caches). Must not throw. */
export type EventObserver = (event: HubEvent) => void;

/** An event as stored on acceptance: what delivery fans out. */
export interface AcceptedEvent {
  event: HubEvent;
  /** ms since epoch, when it was accepted (202). */
  acceptedAt: number;
  /** Fan-out limited to this one subscription (the `kefu.ping` of a subscription test). */
  only?: string;
  /** Of the body as posted: the same id posted with another body is a conflict, not a duplicate. */
  bodyHash?: string;
}

/**
 * The port through which the events feature hands stored events to delivery (wired in src/app.ts).
 * It must be idempotent: after a crash the same events are handed over again, with
 * `recovering: true`.
 */
export type HandOff = (events: readonly AcceptedEvent[], options?: { recovering?: boolean }) => Promise<unknown>;
