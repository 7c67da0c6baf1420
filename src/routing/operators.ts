import { Engine, type EngineOptions, type RuleProperties } from "json-rules-engine";

/** What the evaluator needs of a json-rules-engine operator (decorated ones included). */
export interface OperatorLike {
  evaluate(factValue: unknown, compareTo: unknown): boolean;
}

/** The operators kefu-hub adds to json-rules-engine's; docs/routing.md documents them. */
export const CUSTOM_OPERATORS = ["containsText", "matches", "startsWith", "between"] as const;

interface OperatorMapLike {
  get(name: string): OperatorLike | null;
}

/**
 * A json-rules-engine Engine with kefu-hub's custom operators. The router takes its operators
 * from here, and the reference engine (bench, simulate against `reference-engine`) is one, so that
 * both compare values with exactly the same code.
 */
export function createEngine(rules: RuleProperties[] = [], options: EngineOptions = { allowUndefinedFacts: true }): Engine {
  const engine = new Engine(rules, options);
  const patterns = new Map<string, RegExp | null>();
  const pattern = (source: string): RegExp | null => {
    let compiled = patterns.get(source);
    if (compiled === undefined) {
      compiled = safeRegExp(source);
      patterns.set(source, compiled);
    }
    return compiled;
  };
  const isString = (value: unknown): boolean => typeof value === "string";
  engine.addOperator<unknown, unknown>("containsText", (fact, value) => {
    if (typeof fact !== "string") return false;
    const text = fact.toLowerCase();
    const needles = Array.isArray(value) ? value : [value];
    return needles.some((needle) => typeof needle === "string" && text.includes(needle.toLowerCase()));
  });
  engine.addOperator<unknown, unknown>("matches", (fact, value) => {
    const regex = typeof value === "string" ? pattern(value) : null;
    // Bounded input keeps a costly expression from holding the event loop on a huge text.
    return typeof fact === "string" && regex !== null && regex.test(fact.slice(0, MATCH_INPUT_LIMIT));
  });
  engine.addOperator<unknown, unknown>("startsWith", (fact, value) => isString(fact) && isString(value) && (fact as string).startsWith(value as string));
  engine.addOperator<unknown, unknown>("between", (fact, value) => {
    if (typeof fact !== "number" || !Array.isArray(value)) return false;
    const [min, max] = value as unknown[];
    return typeof min === "number" && typeof max === "number" && fact >= min && fact <= max;
  });
  return engine;
}

/** Looks operators up by name, decorators (`not:`, `someFact:` …) included; null when unknown. */
export function operatorLookup(engine: Engine): (name: string) => OperatorLike | null {
  // json-rules-engine keeps its operator map on the engine without typing it; this is the one
  // place that reaches for it (test/routing/operators.test.ts guards it across upgrades).
  const map = (engine as unknown as { operators: OperatorMapLike }).operators;
  return (name) => map.get(name);
}

/** `matches` looks at this many characters of the text at most. */
export const MATCH_INPUT_LIMIT = 2000;

// A quantified group that itself contains a quantifier — `(a+)+`, `(\w*x)*`, `(a|b+){2,}` — is the
// shape of catastrophic backtracking. Rulesets come from admins, but a `read` key can dry-run a
// candidate, so such expressions are refused rather than trusted.
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,\d*\})/;

/**
 * Case-insensitive regular expression, or null when the source does not compile, is longer than
 * 500 characters, or nests quantifiers.
 */
export function safeRegExp(source: string): RegExp | null {
  if (source.length > 500 || NESTED_QUANTIFIER.test(source)) return null;
  try {
    return new RegExp(source, "iu");
  } catch {
    return null;
  }
}
