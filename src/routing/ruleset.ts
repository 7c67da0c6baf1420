import type { EventPriority } from "../events/hub-event.ts";

/**
 * The types of a ruleset document as `schemas/ruleset.schema.json` allows it (that schema is the
 * source of truth; these types describe a document that passed it).
 */
export interface Route {
  businessLine: string;
  queue: string;
  agentGroup: string;
  priority: EventPriority;
  tags?: string[];
  slaMinutes: number;
}

export type RouteParams = Partial<Route> & { businessLine: string };

/** `{fact, path?}` as the right-hand side of a condition: compare with another fact. */
export interface FactReference {
  fact: string;
  path?: string;
}

export interface FactCondition {
  fact: string;
  operator: string;
  value: unknown;
  path?: string;
  name?: string;
  priority?: number;
}

export interface BooleanCondition {
  all?: Condition[];
  any?: Condition[];
  not?: Condition;
  name?: string;
  priority?: number;
}

export type Condition = FactCondition | BooleanCondition;

export interface RuleDocument {
  name: string;
  description?: string;
  priority: number;
  conditions: BooleanCondition;
  event: { type: "route"; params: RouteParams };
  fallback?: Record<string, unknown>;
}

export interface RulesetDocument {
  name?: string;
  description?: string;
  facts?: Record<string, { path: string; description?: string }>;
  default: Route;
  rules: RuleDocument[];
}

/** The ruleset in force when none was ever stored: every event takes this route. */
export const EMPTY_RULESET: RulesetDocument = {
  name: "built-in default",
  default: { businessLine: "general", queue: "general", agentGroup: "general", priority: "normal", tags: [], slaMinutes: 480 },
  rules: [],
};

export function isFactCondition(condition: Condition): condition is FactCondition {
  return typeof (condition as FactCondition).fact === "string";
}
