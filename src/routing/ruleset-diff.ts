import type { RuleDocument, RulesetDocument } from "./ruleset.ts";

export interface RulesetDiff {
  added: string[];
  removed: string[];
  /** Rules present in both whose definition differs, with the top-level fields that differ. */
  changed: { name: string; fields: string[] }[];
  /** Rules whose position in the document moved (which decides ties in priority). */
  reordered: string[];
  defaultChanged: boolean;
  factsChanged: boolean;
}

/** What changed between two rulesets, rules matched by name. */
export function diffRulesets(from: RulesetDocument, to: RulesetDocument): RulesetDiff {
  const before = new Map(from.rules.map((rule, index) => [rule.name, { rule, index }]));
  const after = new Map(to.rules.map((rule, index) => [rule.name, { rule, index }]));
  const added = to.rules.filter((rule) => !before.has(rule.name)).map((rule) => rule.name);
  const removed = from.rules.filter((rule) => !after.has(rule.name)).map((rule) => rule.name);
  const changed: RulesetDiff["changed"] = [];
  const kept = to.rules.filter((rule) => before.has(rule.name)).map((rule) => rule.name);
  const keptBefore = from.rules.filter((rule) => after.has(rule.name)).map((rule) => rule.name);
  const reordered = kept.filter((name, i) => keptBefore[i] !== name);
  for (const name of kept) {
    const fields = changedFields((before.get(name) as { rule: RuleDocument }).rule, (after.get(name) as { rule: RuleDocument }).rule);
    if (fields.length > 0) changed.push({ name, fields });
  }
  return {
    added,
    removed,
    changed,
    reordered,
    defaultChanged: canonical(from.default) !== canonical(to.default),
    factsChanged: canonical(from.facts ?? {}) !== canonical(to.facts ?? {}),
  };
}

/** One line for the version history, e.g. `+2 rules, -1, 3 changed, default route changed`. */
export function summarizeDiff(diff: RulesetDiff): string {
  const parts: string[] = [];
  if (diff.added.length > 0) parts.push(`added ${diff.added.join(", ")}`);
  if (diff.removed.length > 0) parts.push(`removed ${diff.removed.join(", ")}`);
  if (diff.changed.length > 0) parts.push(`changed ${diff.changed.map((c) => c.name).join(", ")}`);
  if (diff.reordered.length > 0) parts.push(`reordered ${diff.reordered.length} rules`);
  if (diff.defaultChanged) parts.push("changed the default route");
  if (diff.factsChanged) parts.push("changed the declared facts");
  const text = parts.length > 0 ? parts.join("; ") : "no rule changes";
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

function changedFields(a: RuleDocument, b: RuleDocument): string[] {
  const fields = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...fields].filter((field) => canonical((a as unknown as Record<string, unknown>)[field]) !== canonical((b as unknown as Record<string, unknown>)[field])).sort();
}

/** JSON with object keys sorted, so that key order does not count as a change. */
export function canonical(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) =>
      typeof v === "object" && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : 1))) : v,
    ) ?? "undefined"
  );
}
