import type { RuleProperties } from "json-rules-engine";
import type { CompiledNode, CompiledRuleset } from "./compiled-ruleset.ts";
import { createEngine } from "./operators.ts";
import type { RulesetDocument } from "./ruleset.ts";

/**
 * json-rules-engine used the straightforward way: every rule in one Engine, every run evaluates
 * all of them, the decision is the successful rule of highest priority (ties: first in the
 * document). The baseline of bench/routing.ts, and what `simulate` compares the router with.
 */
export interface ReferenceEngine {
  /** The name of the deciding rule, or undefined for the default route. */
  decide(facts: Record<string, unknown>): Promise<string | undefined>;
}

export function createReferenceEngine(document: RulesetDocument): ReferenceEngine {
  const engine = createEngine(document.rules as unknown as RuleProperties[], { allowUndefinedFacts: true });
  const order = new Map(document.rules.map((rule, index) => [rule.name, index]));
  return {
    async decide(facts) {
      const { results } = await engine.run(facts);
      let best: { name: string; priority: number; index: number } | undefined;
      for (const result of results) {
        const index = order.get(result.name) ?? Number.MAX_SAFE_INTEGER;
        const priority = result.priority ?? 1;
        if (!best || priority > best.priority || (priority === best.priority && index < best.index)) {
          best = { name: result.name, priority, index };
        }
      }
      return best?.name;
    },
  };
}

/** Every fact some condition of the ruleset reads (left- or right-hand side). */
export function referencedFacts(ruleset: CompiledRuleset): string[] {
  const facts = new Set<string>();
  const visit = (node: CompiledNode): void => {
    if (node.kind === "fact") {
      facts.add(node.lhs.fact);
      if (node.rhs) facts.add(node.rhs.fact);
    } else if (node.kind === "not") visit(node.child);
    else node.children.forEach(visit);
  };
  for (const rule of ruleset.rules) visit(rule.root);
  return [...facts].sort();
}
