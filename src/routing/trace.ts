import type { CompiledNode, CompiledRule, CompiledRuleset } from "./compiled-ruleset.ts";
import type { DecisionFacts } from "./decision-facts.ts";
import { applyOperator, readFact } from "./evaluate.ts";

export type ConditionTrace =
  | { all: ConditionTrace[]; result: boolean }
  | { any: ConditionTrace[]; result: boolean }
  | { not: ConditionTrace; result: boolean }
  | {
      fact: string;
      path?: string;
      operator: string;
      value: unknown;
      /** The fact's value this condition saw (after `path`). */
      factValue: unknown;
      /** When `value` names a fact: that fact's value. */
      compareValue?: unknown;
      /** The fact could not be fetched; the rule's fallback (or undefined) stood in. */
      unavailable?: true;
      result: boolean;
    };

export interface RuleTrace {
  name: string;
  priority: number;
  matched: boolean;
  /** Whether this rule made the decision. */
  decided: boolean;
  conditions: ConditionTrace;
}

/**
 * Every rule, in the order they are tried, with every condition evaluated (no short-circuit) so
 * that a dry-run shows each fact value. Fetches every plugin record any rule reads, up front.
 */
export async function traceRuleset(ruleset: CompiledRuleset, facts: DecisionFacts): Promise<RuleTrace[]> {
  await facts.load([...new Set(ruleset.rules.flatMap((rule) => rule.records))]);
  let decided = false;
  return ruleset.rules.map((rule) => {
    const conditions = traceNode(rule.root, facts, rule);
    const decides = conditions.result && !decided;
    decided ||= conditions.result;
    return { name: rule.name, priority: rule.priority, matched: conditions.result, decided: decides, conditions };
  });
}

function traceNode(node: CompiledNode, facts: DecisionFacts, rule: CompiledRule): ConditionTrace {
  switch (node.kind) {
    case "fact": {
      const before = facts.unavailable.size;
      const factValue = readFact(node.lhs, facts, rule);
      const compareValue = node.rhs ? readFact(node.rhs, facts, rule) : node.value;
      const { fact, path, operator, value } = node.source;
      return {
        fact,
        ...(path ? { path } : {}),
        operator,
        value,
        factValue,
        ...(node.rhs ? { compareValue } : {}),
        ...(facts.unavailable.size > before || isUnavailable(facts, node.lhs.fact) ? { unavailable: true as const } : {}),
        result: applyOperator(node.operator, factValue, compareValue),
      };
    }
    case "all": {
      const all = node.children.map((child) => traceNode(child, facts, rule));
      return { all, result: all.every((child) => child.result) };
    }
    case "any": {
      const any = node.children.map((child) => traceNode(child, facts, rule));
      return { any, result: any.length === 0 || any.some((child) => child.result) };
    }
    case "not": {
      const not = traceNode(node.child, facts, rule);
      return { not, result: !not.result };
    }
  }
}

function isUnavailable(facts: DecisionFacts, fact: string): boolean {
  return facts.unavailable.has(fact);
}
