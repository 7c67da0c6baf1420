import type { Logger } from "pino";
import { EVENT_PRIORITIES, type EventEnricher, type EventPriority, type HubEvent, type RoutingDecision } from "../events/hub-event.ts";
import type { RecentEvents } from "./recent-events.ts";
import type { Router } from "./router.ts";
import type { RoutingMetrics } from "./routing-metrics.ts";
import { waitAtMost } from "./wait-at-most.ts";

/** The event types that get a routing decision on ingest. */
export const ROUTED_EVENT_TYPES: ReadonlySet<string> = new Set(["ticket.created", "ticket.updated", "chat.session.opened"]);

export interface RoutingEnricherOptions {
  router: Router;
  metrics?: RoutingMetrics;
  recent?: RecentEvents;
  logger: Logger;
  /** Until the first ruleset arrives from Redis an event waits up to `waitMs`, then routes degraded. */
  whenLoaded?: { isLoaded: () => boolean; promise: Promise<void>; waitMs: number };
}

/**
 * Sets `routing` on ticket and chat events and raises their delivery priority when the route's is
 * higher. Never throws: if routing itself fails the event goes on with the default route, marked
 * degraded.
 */
export function createRoutingEnricher({ router, metrics, recent, logger, whenLoaded }: RoutingEnricherOptions): EventEnricher {
  return async (event: HubEvent): Promise<HubEvent> => {
    if (!ROUTED_EVENT_TYPES.has(event.type)) return event;
    const started = performance.now();
    let routing: RoutingDecision;
    try {
      if (whenLoaded && !whenLoaded.isLoaded()) await waitAtMost(whenLoaded.promise, whenLoaded.waitMs);
      routing = await router.decide(event);
      if (whenLoaded && !whenLoaded.isLoaded()) routing = { ...routing, degraded: true };
    } catch (error) {
      logger.error({ err: error, eventId: event.id }, "routing failed; the default route applies");
      routing = fallbackDecision(router);
    }
    metrics?.duration.observe((performance.now() - started) / 1000);
    metrics?.decisions.inc({ business_line: routing.businessLine, degraded: String(routing.degraded) });
    recent?.record(event).catch((error: unknown) => logger.warn({ err: error, eventId: event.id }, "could not keep the routed event for simulate"));
    return { ...event, routing, priority: higherPriority(event.priority, routing.priority) };
  };
}

function fallbackDecision(router: Router): RoutingDecision {
  try {
    const { version, compiled } = router.active();
    return { ...compiled.defaultRoute, tags: [...compiled.defaultRoute.tags], matchedRules: [], rulesetVersion: version, degraded: true };
  } catch {
    return { businessLine: "general", queue: "general", agentGroup: "general", priority: "normal", tags: [], slaMinutes: 480, matchedRules: [], rulesetVersion: 0, degraded: true };
  }
}

/** `urgent` > `high` > `normal` > `low`. */
export function higherPriority(a: EventPriority, b: EventPriority): EventPriority {
  return EVENT_PRIORITIES.indexOf(b) < EVENT_PRIORITIES.indexOf(a) ? b : a;
}
