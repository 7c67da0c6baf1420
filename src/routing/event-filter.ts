import type { HubEvent, RoutingDecision } from "../events/hub-event.ts";
import type { RulesetProblem } from "./compiled-ruleset.ts";
import { compileConditions } from "./compile-ruleset.ts";
import { evaluateSync } from "./evaluate.ts";
import { BUILT_IN_FACTS, type EventFact, type FactDefinition, type FactType } from "./facts.ts";
import { createEngine, operatorLookup } from "./operators.ts";
import type { Condition } from "./ruleset.ts";

/** Whether an event passes a condition, e.g. a subscription's `filter`. Pure and synchronous. */
export type EventFilter = (event: HubEvent) => boolean;

export type EventFilterResult = { filter: EventFilter; errors: [] } | { filter?: undefined; errors: RulesetProblem[] };

const routingField = (field: keyof RoutingDecision, type: FactType, description: string): EventFact => ({
  source: "event",
  type,
  description,
  read: (event) => event.routing?.[field],
});

/**
 * What a filter may read: the event's own facts as routing rules see them, and the routing
 * decision the event carries. Plugin facts are left out on purpose (a filter runs in memory, with
 * no plugin call per subscription), and so are the derived ones that read the clock or a session.
 */
export const FILTER_FACTS: ReadonlyMap<string, EventFact> = new Map([
  ...Object.entries(BUILT_IN_FACTS).filter((entry): entry is [string, EventFact] => entry[1].source === "event"),
  ["routing", { source: "event", type: "object", description: "the whole routing decision (use with `path`), absent for events routing does not decide", read: (event: HubEvent) => event.routing }],
  ["routing.queue", routingField("queue", "string", "the queue routing chose")],
  ["routing.priority", routingField("priority", "string", "the priority routing chose")],
  ["routing.businessLine", routingField("businessLine", "string", "the business line routing chose")],
  ["routing.agentGroup", routingField("agentGroup", "string", "the agent group routing chose")],
  ["routing.tags", routingField("tags", "array", "the tags routing added")],
  ["routing.matchedRules", routingField("matchedRules", "array", "the names of the rules that matched")],
] as [string, EventFact][]);

/**
 * Compiles a condition in the routing rules' format (all/any/not, the same operators) with
 * routing's compiler, against {@link FILTER_FACTS}. Problems point into the document under
 * `pointer` (e.g. `/filter`).
 */
export function compileEventFilter(condition: Condition, pointer: string): EventFilterResult {
  const catalogue: ReadonlyMap<string, FactDefinition> = FILTER_FACTS;
  const { root, errors } = compileConditions(condition, catalogue, { operator: operatorLookup(createEngine()) }, "filter", pointer);
  if (errors.length > 0) return { errors: errors.map(({ pointer: at, message }) => ({ pointer: at, message: filterMessage(message) })) };
  return {
    filter: (event) => evaluateSync(root, (fact) => FILTER_FACTS.get(fact)?.read(event, NO_CONTEXT)),
    errors: [],
  };
}

/** Event facts read nothing but the event; the context is there for the derived ones. */
const NO_CONTEXT = { hourOfDay: () => undefined, weekday: () => undefined };

/** The compiler speaks of rules and rulesets; a filter has neither, nor plugin facts. */
function filterMessage(message: string): string {
  return message
    .replace(/^rule "filter": /, "")
    .replace(/\(declare it under "facts" or see docs\/routing.md for the built-in ones\)/, "(a filter reads the event's own facts and routing.*, no plugin facts: see docs/events-and-webhooks.md)");
}
