import type { CompiledNode, CompiledRule, RuleIndex } from "./compiled-ruleset.ts";
import type { DecisionFacts } from "./decision-facts.ts";
import type { FactDefinition } from "./facts.ts";

/** Indexes by the event fact that guards the most rules; undefined when too few rules gain. */
export function buildRuleIndex(rules: readonly CompiledRule[], facts: ReadonlyMap<string, FactDefinition>): RuleIndex | undefined {
  const guards = rules.map((rule) => guardsOf(rule.root, facts));
  const counts = new Map<string, number>();
  for (const guard of guards) for (const fact of guard.keys()) counts.set(fact, (counts.get(fact) ?? 0) + 1);
  const [fact, count] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? ["", 0];
  if (count < 8) return undefined; // not worth a lookup per decision
  const buckets = new Map<unknown, CompiledRule[]>();
  const rest: CompiledRule[] = [];
  rules.forEach((rule, i) => {
    const values = guards[i]?.get(fact);
    if (!values) {
      rest.push(rule);
      return;
    }
    for (const value of values) {
      const bucket = buckets.get(value) ?? [];
      if (bucket.at(-1) !== rule) bucket.push(rule);
      buckets.set(value, bucket);
    }
  });
  return { fact, buckets, rest };
}

/** The rules a decision must try, in order: its bucket merged with the unguarded rules. */
export function candidateRules(index: RuleIndex, facts: DecisionFacts, order: ReadonlyMap<CompiledRule, number>): readonly CompiledRule[] {
  const bucket = index.buckets.get(facts.value(index.fact));
  if (!bucket) return index.rest;
  if (index.rest.length === 0) return bucket;
  const merged: CompiledRule[] = [];
  let i = 0;
  let j = 0;
  while (i < bucket.length || j < index.rest.length) {
    const a = bucket[i];
    const b = index.rest[j];
    if (a && (!b || (order.get(a) as number) < (order.get(b) as number))) {
      merged.push(a);
      i++;
    } else if (b) {
      merged.push(b);
      j++;
    }
  }
  return merged;
}

/** Facts whose value a rule needs, from top-level `equal`/`in` conditions on event facts without path. */
function guardsOf(root: CompiledNode, facts: ReadonlyMap<string, FactDefinition>): Map<string, readonly unknown[]> {
  const guards = new Map<string, readonly unknown[]>();
  const conjuncts = root.kind === "all" ? root.children : [root];
  for (const node of conjuncts) {
    if (node.kind !== "fact" || node.rhs || node.lhs.steps || guards.has(node.lhs.fact)) continue;
    if (facts.get(node.lhs.fact)?.source === "plugin") continue;
    const { operator, value } = node.source;
    if (operator === "equal" && isPrimitive(value)) guards.set(node.lhs.fact, [value]);
    else if (operator === "in" && Array.isArray(value) && value.every(isPrimitive)) guards.set(node.lhs.fact, value);
  }
  return guards;
}

function isPrimitive(value: unknown): boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean" || value === null;
}
