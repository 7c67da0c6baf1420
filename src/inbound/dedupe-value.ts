import type { DedupeRule } from "./inbound-source.ts";

/** Longer values are not deduped on (they are hashed into the key, but a rule should name an id). */
const MAX_VALUE_CHARS = 500;

/**
 * The value a source's dedupe rule names in a delivery: a header, or a `$.a.b[0].c` path into the
 * body (strings and numbers only). Undefined when it is absent: the delivery is then not deduped.
 */
export function dedupeValue(rule: DedupeRule | undefined, headers: Readonly<Record<string, string>>, body: unknown): string | undefined {
  if (!rule) return undefined;
  const value = "header" in rule ? headers[rule.header.toLowerCase()] : atPath(body, rule.path);
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return typeof value === "string" && value !== "" && value.length <= MAX_VALUE_CHARS ? value : undefined;
}

/** The steps of each path seen, parsed once: a source's rule is applied to every delivery. Bounded by the sources' rules. */
const stepsOf = new Map<string, (string | number)[]>();

function steps(path: string): (string | number)[] {
  let parsed = stepsOf.get(path);
  if (!parsed) {
    parsed = [...path.slice(1).matchAll(/\.([^.[]+)|\[(\d+)\]/g)].map(([, name, index]) => name ?? Number(index));
    if (stepsOf.size >= 1000) stepsOf.clear();
    stepsOf.set(path, parsed);
  }
  return parsed;
}

/** `$.data.items[0].id` → body.data.items[0].id; the schema allows only names and indexes. */
export function atPath(body: unknown, path: string): unknown {
  let current = body;
  for (const key of steps(path)) {
    if (typeof current !== "object" || current === null) return undefined;
    if (!Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}
