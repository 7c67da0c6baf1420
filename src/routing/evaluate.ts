import type { CompiledNode, CompiledRule, CompiledRuleset, FactAccess } from "./compiled-ruleset.ts";
import { PENDING, UNAVAILABLE, type DecisionFacts } from "./decision-facts.ts";
import { readPath } from "./facts.ts";
import { candidateRules } from "./rule-index.ts";

type Tri = boolean | typeof PENDING;

/**
 * The deciding rule: rules are tried in priority order (document order within a priority) and
 * the first that matches decides, so no rule after it is evaluated — json-rules-engine would
 * evaluate every rule. With an index, rules whose guard fact has another value are skipped too. Evaluation is synchronous until a plugin-backed fact is missing; then the
 * rule's records are fetched once and the rule re-evaluated.
 */
export async function findDecidingRule(ruleset: CompiledRuleset, facts: DecisionFacts): Promise<CompiledRule | undefined> {
  const rules = ruleset.index ? candidateRules(ruleset.index, facts, ruleset.rank) : ruleset.rules;
  for (const rule of rules) {
    let result = evaluateNode(rule.root, facts, rule);
    if (result === PENDING) {
      await facts.load(rule.records);
      result = evaluateNode(rule.root, facts, rule);
    }
    if (result === true) return rule;
  }
  return undefined;
}

/**
 * Three-valued, so that a condition on an unfetched plugin fact does not force a fetch when another
 * condition already decides (`all` with a false member is false whatever the plugin says).
 * json-rules-engine's semantics otherwise: an empty `all` or `any` is true.
 */
export function evaluateNode(node: CompiledNode, facts: DecisionFacts, rule: CompiledRule): Tri {
  switch (node.kind) {
    case "fact": {
      const lhs = readFact(node.lhs, facts, rule);
      if (lhs === PENDING) return PENDING;
      const rhs = node.rhs ? readFact(node.rhs, facts, rule) : node.value;
      if (rhs === PENDING) return PENDING;
      return applyOperator(node.operator, lhs, rhs);
    }
    case "all": {
      let pending = false;
      for (const child of node.children) {
        const result = evaluateNode(child, facts, rule);
        if (result === false) return false;
        if (result === PENDING) pending = true;
      }
      return pending ? PENDING : true;
    }
    case "any": {
      if (node.children.length === 0) return true;
      let pending = false;
      for (const child of node.children) {
        const result = evaluateNode(child, facts, rule);
        if (result === true) return true;
        if (result === PENDING) pending = true;
      }
      return pending ? PENDING : false;
    }
    case "not": {
      const result = evaluateNode(node.child, facts, rule);
      return result === PENDING ? PENDING : !result;
    }
  }
}

/** A fact's value as this rule sees it: its fallback stands in for an unavailable plugin fact. */
export function readFact(access: FactAccess, facts: DecisionFacts, rule: CompiledRule): unknown {
  let value = facts.value(access.fact);
  if (value === PENDING) return PENDING;
  if (value === UNAVAILABLE) {
    facts.unavailable.add(access.fact);
    value = rule.fallback.get(access.fact);
  }
  return access.steps ? readPath(value, access.steps) : value;
}

export function applyOperator(operator: { evaluate(a: unknown, b: unknown): boolean }, lhs: unknown, rhs: unknown): boolean {
  try {
    return operator.evaluate(lhs, rhs);
  } catch {
    // e.g. `contains` on a fact that is not an array: json-rules-engine throws, a router must not.
    return false;
  }
}

/**
 * A condition tree over facts that are all at hand (no plugin fetch, no fallback): the sessions'
 * risk rules. Same operators and the same empty-`all`/`any` semantics as {@link evaluateNode}.
 */
export function evaluateSync(node: CompiledNode, valueOf: (fact: string) => unknown): boolean {
  const read = (access: FactAccess): unknown => (access.steps ? readPath(valueOf(access.fact), access.steps) : valueOf(access.fact));
  switch (node.kind) {
    case "fact":
      return applyOperator(node.operator, read(node.lhs), node.rhs ? read(node.rhs) : node.value);
    case "all":
      return node.children.every((child) => evaluateSync(child, valueOf));
    case "any":
      return node.children.length === 0 || node.children.some((child) => evaluateSync(child, valueOf));
    case "not":
      return !evaluateSync(node.child, valueOf);
  }
}
