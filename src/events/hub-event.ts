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

/**
 * Records another feature creates together with a new event, in the accept script's round trip
 * (src/events/lua/accept-event.lua), so that they exist exactly when the event does. Nothing is
 * written for a duplicate.
 */
export interface CompanionRecords {
  /** Hashes written unless they already exist (the first field decides), each with an expiry. */
  hashes: readonly { key: string; fields: readonly (string | number)[]; ttlSeconds: number }[];
  /** Sorted-set entries; `trimBelow` removes entries scored below it, `ttlSeconds` sets the set's expiry. */
  indexes: readonly { key: string; score: number; member: string; trimBelow?: number; ttlSeconds?: number }[];
}

/**
 * A hash another feature reads with a new event, in the accept script's round trip, for its part
 * of the hand-off (sessions: the session of a chat message it does not hold): one Redis command
 * and one socket exchange fewer per event than reading it afterwards.
 */
export interface CompanionRead {
  key: string;
  fields: readonly string[];
}

/** What the {@link CompanionRead}s found, in their order: each one's field values (null where absent). */
export type CompanionValues = readonly (readonly (string | null)[])[];

/** Delivery's part of accepting one event (and what goes alongside it), planned in memory before the event is stored. */
export interface PlannedHandOff {
  /** Written with the event, atomically; absent when there is nothing to write up front. */
  records?: CompanionRecords;
  /** Read with the event when it is new; their values are handed to {@link PlannedHandOff.handOff}. */
  reads?: readonly CompanionRead[];
  /**
   * Run once the event (and `records`) are stored: queues its deliveries. Idempotent, like
   * {@link HandOff}. `values` are what `reads` found, when the accept read them (not for an event
   * accepted in a batch: then each part reads for itself).
   */
  handOff(values?: CompanionValues): Promise<unknown>;
}

/** Plans the hand-off of one event before it is stored (wired in src/app.ts, from delivery's fan-out). */
export type PlanHandOff = (accepted: AcceptedEvent) => Promise<PlannedHandOff>;
