import type { CompiledLeaf, CompiledNode, CompiledRule, RulesetProblem } from "./compiled-ruleset.ts";

/**
 * Rules that can never decide: a rule tried before them matches whenever they do. Found for the
 * common shape of routing rules — conjunctions (`all`, nested `all`s) of conditions — by showing
 * that each condition of the earlier rule follows from one of the later rule's conditions
 * (equal ⇒ in, subset of `in`, tighter numeric bound, or the very same condition). Anything
 * else (`any`, `not`) counts only when it appears identically in both rules. A miss is possible;
 * a false alarm is not.
 */
export function findShadowedRules(rules: readonly CompiledRule[]): RulesetProblem[] {
  const atoms = rules.map((rule) => conjunctionAtoms(rule.root));
  const warnings: RulesetProblem[] = [];
  rules.forEach((later, j) => {
    for (let i = 0; i < j; i++) {
      const earlier = rules[i] as CompiledRule;
      if (!independentOfPlugins(earlier, later)) continue;
      const laterAtoms = atoms[j] as Atom[];
      if ((atoms[i] as Atom[]).every((needed) => laterAtoms.some((held) => implies(held, needed)))) {
        warnings.push({
          pointer: `/rules/${later.index}`,
          rule: later.name,
          message: `rule "${later.name}" can never decide: rule "${earlier.name}" (priority ${earlier.priority}) is tried first and matches whenever it does`,
        });
        break;
      }
    }
  });
  return warnings;
}

interface Atom {
  key: string;
  leaf?: CompiledLeaf;
}

function conjunctionAtoms(node: CompiledNode): Atom[] {
  if (node.kind === "all") return node.children.flatMap(conjunctionAtoms);
  if (node.kind === "fact" && !node.rhs) return [{ key: canonical(node.source), leaf: node }];
  return [{ key: canonical(toDocument(node)) }];
}

function toDocument(node: CompiledNode): unknown {
  if (node.kind === "fact") return node.source;
  if (node.kind === "not") return { not: toDocument(node.child) };
  return { [node.kind]: node.children.map(toDocument) };
}

/** When the earlier rule reads a plugin fact, it may fail on a degraded run unless both rules assume the same fallback. */
function independentOfPlugins(earlier: CompiledRule, later: CompiledRule): boolean {
  if (earlier.records.length === 0) return true;
  const facts = new Set([...earlier.fallback.keys(), ...later.fallback.keys()]);
  return [...facts].every((fact) => canonical(earlier.fallback.get(fact)) === canonical(later.fallback.get(fact)));
}

function implies(held: Atom, needed: Atom): boolean {
  if (held.key === needed.key) return true;
  const a = held.leaf?.source;
  const b = needed.leaf?.source;
  if (!a || !b || a.fact !== b.fact || (a.path ?? "") !== (b.path ?? "")) return false;
  if (a.operator === "equal") return valueSatisfies(a.value, b.operator, b.value);
  if (a.operator === "in" && b.operator === "in" && Array.isArray(a.value) && Array.isArray(b.value)) {
    const allowed = b.value as unknown[];
    return (a.value as unknown[]).every((v) => allowed.includes(v));
  }
  return boundImplies(a.operator, a.value, b.operator, b.value);
}

/** Whether `fact === value` makes `fact <operator> compareTo` true. */
function valueSatisfies(value: unknown, operator: string, compareTo: unknown): boolean {
  switch (operator) {
    case "in":
      return Array.isArray(compareTo) && compareTo.includes(value);
    case "notEqual":
      return value !== compareTo;
    case "notIn":
      return Array.isArray(compareTo) && !compareTo.includes(value);
  }
  if (typeof value !== "number" || typeof compareTo !== "number") return false;
  return boundImplies("equal", value, operator, compareTo);
}

const LOWER = new Set(["greaterThan", "greaterThanInclusive"]);
const UPPER = new Set(["lessThan", "lessThanInclusive"]);

function boundImplies(heldOp: string, heldValue: unknown, neededOp: string, neededValue: unknown): boolean {
  if (typeof heldValue !== "number" || typeof neededValue !== "number") return false;
  const strictHeld = heldOp === "greaterThan" || heldOp === "lessThan";
  const strictNeeded = neededOp === "greaterThan" || neededOp === "lessThan";
  if ((LOWER.has(heldOp) || heldOp === "equal") && LOWER.has(neededOp)) {
    return heldValue > neededValue || (heldValue === neededValue && (strictHeld || !strictNeeded));
  }
  if ((UPPER.has(heldOp) || heldOp === "equal") && UPPER.has(neededOp)) {
    return heldValue < neededValue || (heldValue === neededValue && (strictHeld || !strictNeeded));
  }
  return false;
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== "name" && k !== "priority").sort(([x], [y]) => (x < y ? -1 : 1)))
      : v,
  ) ?? "undefined";
}
