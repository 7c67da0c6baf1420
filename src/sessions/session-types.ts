import type { RoutingDecision } from "../events/hub-event.ts";

export const RISK_LEVELS = ["low", "medium", "high"] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** A customer-behaviour event, as schemas/sessions/behavior-event.schema.json allows it. */
export interface BehaviorEvent {
  id: string;
  customerId: string;
  type: string;
  /** ISO 8601. */
  occurredAt: string;
  data: Record<string, unknown>;
}

export interface RecentEvent {
  id: string;
  type: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

/** What behaviour events made of a session, as the fusion document says. */
export interface SessionBehavior {
  /** Newest first. */
  recent: RecentEvent[];
  counters: Record<string, number>;
  latest: Record<string, unknown>;
}

export interface SessionRisk {
  level: RiskLevel;
  /** Names of the matching risk rules. */
  reasons: string[];
}

/** The context of one chat session: what `GET /v1/sessions/{id}` answers (schemas/sessions/session.schema.json). */
export interface SessionContext {
  sessionId: string;
  state: "open" | "closed";
  channel: string;
  customer: { id: string; name?: string; profile: Record<string, unknown> | null };
  orderId: string | null;
  risk: SessionRisk;
  behavior: SessionBehavior;
  routing: RoutingDecision | null;
  openedAt: string;
  lastMessageAt: string | null;
  messageCount: number;
  closedAt: string | null;
  /** Grows by one with every change; the ETag and the SSE id. */
  version: number;
  updatedAt: string;
}

/**
 * What the session keeps besides its context and never shows: the times of the events each
 * sliding-window counter counts, so that a counter is exact and forgets what leaves its window.
 */
export interface SessionWindows {
  /** Counter name → epoch ms of each counted event, oldest first. */
  [counter: string]: number[];
}

/** A session as stored: its context and the windows behind its counters. */
export interface StoredSession {
  context: SessionContext;
  windows: SessionWindows;
}
