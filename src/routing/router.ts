import type { HubEvent, RoutingDecision } from "../events/hub-event.ts";
import type { CompiledRule, CompiledRuleset } from "./compiled-ruleset.ts";
import { DecisionFacts, type DecisionFactsOptions, type RecordFetcher, type UnavailableReason } from "./decision-facts.ts";
import { findDecidingRule } from "./evaluate.ts";
import type { FactContext } from "./facts.ts";
import { traceRuleset, type RuleTrace } from "./trace.ts";

/** A compiled ruleset and the version it was stored as; swapped whole, never mutated. */
export interface ActiveRuleset {
  readonly version: number;
  readonly compiled: CompiledRuleset;
}

export interface DecideOptions {
  /** A candidate instead of the active ruleset (dry-run, simulate). */
  ruleset?: ActiveRuleset;
  /** Fact values that win over the event's (dry-run with plain facts). */
  facts?: Readonly<Record<string, unknown>>;
}

export interface Explanation {
  decision: RoutingDecision;
  trace: { rules: RuleTrace[]; facts: Record<string, unknown>; unavailableFacts: string[]; unavailableReasons: Record<string, UnavailableReason> };
}

export interface Router {
  /** The ruleset new decisions start on. */
  active(): ActiveRuleset;
  /** Atomic: decisions in flight keep the ruleset they started with. */
  swap(next: ActiveRuleset): void;
  decide(event: HubEvent, options?: DecideOptions): Promise<RoutingDecision>;
  explain(event: HubEvent, options?: DecideOptions): Promise<Explanation>;
}

export interface RouterOptions {
  initial: ActiveRuleset;
  clock: FactContext;
  fetcher?: RecordFetcher;
  /** Budget for plugin-backed facts per decision. */
  factTimeoutMs: number;
  /** Told of each plugin record a decision could not fetch (logging). */
  onFactUnavailable?: DecisionFactsOptions["onUnavailable"];
}

export function createRouter({ initial, clock, fetcher, factTimeoutMs, onFactUnavailable }: RouterOptions): Router {
  let current = initial;
  const factsFor = (event: HubEvent, ruleset: ActiveRuleset, provided?: Readonly<Record<string, unknown>>): DecisionFacts =>
    new DecisionFacts({
      event,
      catalogue: ruleset.compiled.facts,
      clock,
      ...(fetcher ? { fetcher } : {}),
      deadline: Date.now() + factTimeoutMs,
      ...(provided ? { provided } : {}),
      ...(onFactUnavailable ? { onUnavailable: onFactUnavailable } : {}),
    });
  return {
    active: () => current,
    swap(next) {
      current = next;
    },
    async decide(event, options = {}) {
      const ruleset = options.ruleset ?? current; // captured once: a swap mid-decision does not affect it
      const facts = factsFor(event, ruleset, options.facts);
      const rule = await findDecidingRule(ruleset.compiled, facts);
      return toDecision(ruleset, rule, facts.degraded);
    },
    async explain(event, options = {}) {
      const ruleset = options.ruleset ?? current;
      const facts = factsFor(event, ruleset, options.facts);
      const rule = await findDecidingRule(ruleset.compiled, facts);
      const decision = toDecision(ruleset, rule, facts.degraded);
      const rules = await traceRuleset(ruleset.compiled, facts);
      return { decision, trace: { rules, facts: seenFacts(rules), unavailableFacts: [...facts.unavailable].sort(), unavailableReasons: facts.unavailableReasons() } };
    },
  };
}

export function toDecision(ruleset: ActiveRuleset, rule: CompiledRule | undefined, degraded: boolean): RoutingDecision {
  const route = rule?.route ?? ruleset.compiled.defaultRoute;
  return {
    businessLine: route.businessLine,
    queue: route.queue,
    agentGroup: route.agentGroup,
    priority: route.priority,
    tags: [...route.tags],
    slaMinutes: route.slaMinutes,
    matchedRules: rule ? [rule.name] : [],
    rulesetVersion: ruleset.version,
    degraded,
  };
}

/** Each fact a condition read, with the value it had (paths not applied), for the dry-run answer. */
function seenFacts(rules: readonly RuleTrace[]): Record<string, unknown> {
  const seen: Record<string, unknown> = {};
  const visit = (node: RuleTrace["conditions"]): void => {
    if ("all" in node) node.all.forEach(visit);
    else if ("any" in node) node.any.forEach(visit);
    else if ("not" in node) visit(node.not);
    else if (!node.path && !(node.fact in seen)) seen[node.fact] = node.factValue;
  };
  for (const rule of rules) visit(rule.conditions);
  return seen;
}
