import { BUILT_IN_FACTS, parsePath, readPath, type FactDefinition, type PluginRecord } from "./facts.ts";
import type { CompiledNode, CompiledRule, CompileResult, FactAccess, Route, RulesetProblem } from "./compiled-ruleset.ts";
import { safeRegExp, type OperatorLike } from "./operators.ts";
import { isFactCondition, type Condition, type FactCondition, type FactReference, type RuleDocument, type RulesetDocument } from "./ruleset.ts";
import { buildRuleIndex } from "./rule-index.ts";
import { findShadowedRules } from "./shadowing.ts";

export interface CompileOptions {
  /** From {@link operatorLookup}. */
  operator(name: string): OperatorLike | null;
}

/**
 * Turns a schema-valid ruleset into a {@link CompiledRuleset}, reporting what the schema cannot
 * see: unknown facts and operators, values an operator cannot use, duplicate names, fallbacks for
 * facts that are not plugin-backed, and (as warnings) rules that higher ones shadow.
 */
export function compileRuleset(document: RulesetDocument, options: CompileOptions): CompileResult {
  const errors: RulesetProblem[] = [];
  const facts = factCatalogue(document, errors);
  const defaultRoute: Route = { ...document.default, tags: document.default.tags ?? [] };
  const seen = new Map<string, number>();
  const rules: CompiledRule[] = [];
  document.rules.forEach((rule, index) => {
    const pointer = `/rules/${index}`;
    const first = seen.get(rule.name);
    if (first !== undefined) errors.push({ pointer: `${pointer}/name`, rule: rule.name, message: `rule "${rule.name}": the name is already used by rule ${first}` });
    seen.set(rule.name, index);
    const compiler = new ConditionCompiler(rule.name, facts, options, errors);
    const root = compiler.compile(rule.conditions, `${pointer}/conditions`);
    checkFallback(rule, pointer, facts, errors);
    const records = [...compiler.records];
    const route: Route = { ...defaultRoute, ...rule.event.params, tags: rule.event.params.tags ?? defaultRoute.tags };
    rules.push({ name: rule.name, index, priority: rule.priority, root, route, records, fallback: new Map(Object.entries(rule.fallback ?? {})) });
  });
  rules.sort((a, b) => b.priority - a.priority || a.index - b.index);
  const warnings = errors.length === 0 ? findShadowedRules(rules) : [];
  if (errors.length > 0) return { errors, warnings };
  const index = buildRuleIndex(rules, facts);
  const rank = new Map(rules.map((rule, position) => [rule, position]));
  return { compiled: { document, rules, rank, ...(index ? { index } : {}), defaultRoute, facts }, errors, warnings };
}

function factCatalogue(document: RulesetDocument, errors: RulesetProblem[]): Map<string, FactDefinition> {
  const facts = new Map<string, FactDefinition>(Object.entries(BUILT_IN_FACTS));
  for (const [name, definition] of Object.entries(document.facts ?? {})) {
    if (facts.has(name)) {
      errors.push({ pointer: `/facts/${name}`, message: `fact "${name}" is built in; choose another name` });
      continue;
    }
    const steps = parsePath(definition.path);
    facts.set(name, { source: "event", type: "any", description: definition.description ?? definition.path, read: (event) => readPath(event.data, steps) });
  }
  return facts;
}

function checkFallback(rule: RuleDocument, pointer: string, facts: ReadonlyMap<string, FactDefinition>, errors: RulesetProblem[]): void {
  for (const name of Object.keys(rule.fallback ?? {})) {
    const fact = facts.get(name);
    if (fact?.source === "plugin") continue;
    const why = fact ? "is not plugin-backed; only plugin-backed facts can be unavailable" : "is not a known fact";
    errors.push({ pointer: `${pointer}/fallback/${name}`, rule: rule.name, message: `rule "${rule.name}": fallback "${name}" ${why}` });
  }
}

/** Operators whose right-hand side must have a given shape, or json-rules-engine throws at run time. */
const VALUE_SHAPES: Readonly<Record<string, { check: (value: unknown) => boolean; expected: string }>> = {
  in: { check: Array.isArray, expected: "an array" },
  notIn: { check: Array.isArray, expected: "an array" },
  between: { check: (v) => Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === "number"), expected: "[min, max] numbers" },
  matches: { check: (v) => typeof v === "string" && safeRegExp(v) !== null, expected: "a valid regular expression of at most 500 characters without nested quantifiers such as (a+)+" },
  containsText: { check: (v) => typeof v === "string" || (Array.isArray(v) && v.every((s) => typeof s === "string")), expected: "a string or an array of strings" },
  startsWith: { check: (v) => typeof v === "string", expected: "a string" },
};

/**
 * One condition tree compiled against a catalogue of facts other than routing's: the sessions'
 * risk rules use it, so that they read, compare and report errors exactly as routing rules do.
 */
export function compileConditions(
  conditions: Condition,
  catalogue: ReadonlyMap<string, FactDefinition>,
  options: CompileOptions,
  ruleName: string,
  pointer: string,
): { root: CompiledNode; errors: RulesetProblem[] } {
  const errors: RulesetProblem[] = [];
  const root = new ConditionCompiler(ruleName, catalogue, options, errors).compile(conditions, pointer);
  return { root, errors };
}

class ConditionCompiler {
  readonly records = new Set<PluginRecord>();
  readonly #rule: string;
  readonly #facts: ReadonlyMap<string, FactDefinition>;
  readonly #options: CompileOptions;
  readonly #errors: RulesetProblem[];

  constructor(rule: string, facts: ReadonlyMap<string, FactDefinition>, options: CompileOptions, errors: RulesetProblem[]) {
    this.#rule = rule;
    this.#facts = facts;
    this.#options = options;
    this.#errors = errors;
  }

  compile(condition: Condition, pointer: string): CompiledNode {
    if (isFactCondition(condition)) return this.#leaf(condition, pointer);
    if (condition.all) return { kind: "all", children: condition.all.map((c, i) => this.compile(c, `${pointer}/all/${i}`)) };
    if (condition.any) return { kind: "any", children: condition.any.map((c, i) => this.compile(c, `${pointer}/any/${i}`)) };
    return { kind: "not", child: this.compile(condition.not as Condition, `${pointer}/not`) };
  }

  #leaf(condition: FactCondition, pointer: string): CompiledNode {
    const lhs = this.#access(condition.fact, condition.path, `${pointer}/fact`);
    const operator = this.#options.operator(condition.operator);
    if (!operator) this.#problem(`${pointer}/operator`, `unknown operator "${condition.operator}" (see docs/routing.md for the operators)`);
    const reference = asFactReference(condition.value);
    const rhs = reference ? this.#access(reference.fact, reference.path, `${pointer}/value/fact`) : undefined;
    const shape = VALUE_SHAPES[condition.operator];
    if (!reference && shape && !shape.check(condition.value)) {
      this.#problem(`${pointer}/value`, `operator "${condition.operator}" needs ${shape.expected} as its value`);
    }
    const never: OperatorLike = { evaluate: () => false };
    return { kind: "fact", lhs, operator: operator ?? never, value: condition.value, ...(rhs ? { rhs } : {}), source: condition };
  }

  #access(fact: string, path: string | undefined, pointer: string): FactAccess {
    const definition = this.#facts.get(fact);
    if (!definition) this.#problem(pointer, `unknown fact "${fact}" (declare it under "facts" or see docs/routing.md for the built-in ones)`);
    if (definition?.source === "plugin") this.records.add(definition.record);
    return path ? { fact, steps: parsePath(path) } : { fact };
  }

  #problem(pointer: string, message: string): void {
    this.#errors.push({ pointer, rule: this.#rule, message: `rule "${this.#rule}": ${message}` });
  }
}

function asFactReference(value: unknown): FactReference | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const fact = (value as { fact?: unknown }).fact;
  return typeof fact === "string" ? (value as FactReference) : undefined;
}
