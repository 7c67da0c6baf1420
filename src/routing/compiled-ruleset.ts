import type { RoutingDecision } from "../events/hub-event.ts";
import type { FactDefinition, PluginRecord } from "./facts.ts";
import type { OperatorLike } from "./operators.ts";
import type { FactCondition, RulesetDocument } from "./ruleset.ts";

/** A right- or left-hand side: a fact, optionally a path into it. */
export interface FactAccess {
  fact: string;
  steps?: readonly (string | number)[];
}

export interface CompiledLeaf {
  kind: "fact";
  lhs: FactAccess;
  operator: OperatorLike;
  /** A constant, unless `rhs` names a fact. */
  value: unknown;
  rhs?: FactAccess;
  source: FactCondition;
}

export type CompiledNode =
  | CompiledLeaf
  | { kind: "all" | "any"; children: CompiledNode[] }
  | { kind: "not"; child: CompiledNode };

export type Route = Omit<RoutingDecision, "matchedRules" | "rulesetVersion" | "degraded">;

export interface CompiledRule {
  name: string;
  /** Position in the document (ties in priority go to the lower one). */
  index: number;
  priority: number;
  root: CompiledNode;
  route: Route;
  /** Plugin records its conditions read; fetched only when this rule is reached. */
  records: readonly PluginRecord[];
  fallback: ReadonlyMap<string, unknown>;
}

/**
 * Rules bucketed by the value one event fact must have for them to match: most routing rules
 * start with `productLine equal "pumps"` or `region in [...]`. A decision then tries only the rules
 * of its value's bucket plus the rules without such a guard, still in priority order — the others
 * cannot match, since their guard (a conjunct of their conditions) is false. Built by rule-index.ts.
 */
export interface RuleIndex {
  fact: string;
  buckets: ReadonlyMap<unknown, readonly CompiledRule[]>;
  /** Rules not guarded by `fact`, in the order they are tried. */
  rest: readonly CompiledRule[];
}

/** A ruleset ready to decide: rules in the order they are tried (priority desc, then document order). */
export interface CompiledRuleset {
  document: RulesetDocument;
  rules: readonly CompiledRule[];
  /** Each rule's position in `rules`. */
  rank: ReadonlyMap<CompiledRule, number>;
  /** Narrows the rules a decision tries; absent when no fact guards enough rules. */
  index?: RuleIndex;
  defaultRoute: Route;
  facts: ReadonlyMap<string, FactDefinition>;
}

export interface RulesetProblem {
  /** JSON pointer into the ruleset document. */
  pointer: string;
  /** The rule's name, when the problem is inside one. */
  rule?: string;
  message: string;
}

export interface CompileResult {
  /** Present when there are no errors. */
  compiled?: CompiledRuleset;
  errors: RulesetProblem[];
  /** Problems that do not stop activation, e.g. a rule shadowed by a higher-priority one. */
  warnings: RulesetProblem[];
}
