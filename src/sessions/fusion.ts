import type { FactDefinition } from "../routing/facts.ts";
import { parsePath, readPath } from "../routing/facts.ts";
import { compileConditions } from "../routing/compile-ruleset.ts";
import type { CompiledNode, RulesetProblem } from "../routing/compiled-ruleset.ts";
import { evaluateSync } from "../routing/evaluate.ts";
import { createEngine, operatorLookup } from "../routing/operators.ts";
import type { FusionDocument } from "./fusion-document.ts";
import { RISK_LEVELS, type BehaviorEvent, type RiskLevel, type SessionRisk, type StoredSession } from "./session-types.ts";

/** The facts risk rules may read (docs/sessions.md lists them). */
const RISK_FACTS: ReadonlyMap<string, FactDefinition> = new Map(
  (
    [
      ["counters", "object", "the session's counters by name (use with `path`, e.g. $.paymentFailed10m)"],
      ["latest", "object", "the session's latest values by name"],
      ["profile", "object", "the CRM profile (null until it arrived or when the CRM has none)"],
      ["channel", "string", "the session's channel"],
      ["messageCount", "number", "messages in the session so far"],
      ["recentTypes", "array", "the types of the recent events, newest first"],
    ] as const
  ).map(([name, type, description]) => [name, { source: "derived", type, description, read: () => undefined }]),
);

interface CompiledRiskRule {
  name: string;
  level: RiskLevel;
  root: CompiledNode;
}

/** A fusion document ready to fold events into sessions. Pure: no I/O, no clock of its own. */
export interface Fusion {
  readonly document: FusionDocument;
  /** Whether an event of this type changes anything (recent, a counter or a latest value). */
  uses(type: string): boolean;
  /** Folds events (oldest first) into a copy of the session, as of `now` (epoch ms). */
  apply(session: StoredSession, events: readonly BehaviorEvent[], now: number): StoredSession;
  /** The counters as of `now` and the risk they give, e.g. after the CRM profile arrived. */
  refresh(session: StoredSession, now: number): StoredSession;
}

export type FusionCompileResult = { fusion: Fusion; errors: [] } | { fusion?: undefined; errors: RulesetProblem[] };

/** Compiles a schema-valid fusion document; its risk conditions through routing's compiler. */
export function compileFusion(document: FusionDocument): FusionCompileResult {
  const operator = operatorLookup(createEngine());
  const errors: RulesetProblem[] = [];
  const rules: CompiledRiskRule[] = document.risk.rules.map((rule, index) => {
    const compiled = compileConditions(rule.conditions, RISK_FACTS, { operator }, rule.name, `/risk/rules/${index}/conditions`);
    errors.push(...compiled.errors);
    return { name: rule.name, level: rule.level, root: compiled.root };
  });
  errors.push(...duplicateNames(document));
  if (errors.length > 0) return { errors };
  return { fusion: createFusion(document, rules), errors: [] };
}

function createFusion(document: FusionDocument, rules: readonly CompiledRiskRule[]): Fusion {
  const keepAll = document.recent.types.includes("*");
  const recentTypes = new Set(document.recent.types);
  const latest = document.latest.map((entry) => ({ ...entry, steps: parsePath(entry.path) }));
  const used = new Set([...document.counters.map((c) => c.type), ...document.latest.map((l) => l.type), ...(document.recent.size > 0 ? recentTypes : [])]);

  const refresh = (session: StoredSession, now: number): StoredSession => {
    const windows: Record<string, number[]> = {};
    const counters: Record<string, number> = {};
    for (const counter of document.counters) {
      const times = withinWindow(session.windows[counter.name] ?? [], now - counter.windowSeconds * 1000);
      windows[counter.name] = times;
      counters[counter.name] = times.length;
    }
    const context = { ...session.context, behavior: { ...session.context.behavior, counters } };
    return { windows, context: { ...context, risk: riskOf(rules, document.risk.default, { ...context, counters }) } };
  };

  return {
    document,
    uses: (type) => keepAll || used.has(type),
    apply(session, events, now) {
      const windows: Record<string, number[]> = { ...session.windows };
      // Each touched window is copied once per apply, then appended to in place: `session` stays as it was.
      const copied = new Set<string>();
      let recent = session.context.behavior.recent;
      const values: Record<string, unknown> = { ...session.context.behavior.latest };
      for (const event of events) {
        if (document.recent.size > 0 && (keepAll || recentTypes.has(event.type))) {
          recent = [{ id: event.id, type: event.type, occurredAt: event.occurredAt, data: event.data }, ...recent].slice(0, document.recent.size);
        }
        for (const counter of document.counters) {
          if (counter.type !== event.type) continue;
          const time = Date.parse(event.occurredAt);
          // The refresh below would drop it anyway: a time that is not one is outside every window.
          if (Number.isNaN(time)) continue;
          let times = windows[counter.name] ?? [];
          if (!copied.has(counter.name)) {
            times = windows[counter.name] = [...times];
            copied.add(counter.name);
          }
          insertSorted(times, time);
          const max = counter.max ?? 1000;
          if (times.length > max) times.splice(0, times.length - max);
        }
        for (const entry of latest) {
          if (entry.type !== event.type) continue;
          const value = readPath(event.data, entry.steps);
          if (value !== undefined) values[entry.name] = value;
        }
      }
      const behavior = { ...session.context.behavior, recent, latest: values };
      return refresh({ windows, context: { ...session.context, behavior } }, now);
    },
    refresh,
  };
}

/**
 * Adds `time` to ascending `times` in place. Events mostly arrive in order, so this is an append;
 * a late one is placed by binary search instead of re-sorting the window (up to `max` entries).
 */
function insertSorted(times: number[], time: number): void {
  let low = 0;
  let high = times.length;
  if (high === 0 || (times[high - 1] as number) <= time) return void times.push(time);
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((times[middle] as number) <= time) low = middle + 1;
    else high = middle;
  }
  times.splice(low, 0, time);
}

/** The part of ascending `times` after `since`; the same array when nothing has left the window. */
function withinWindow(times: readonly number[], since: number): number[] {
  let first = 0;
  while (first < times.length && (times[first] as number) <= since) first++;
  return first === 0 ? (times as number[]) : times.slice(first);
}

/** The highest level among the matching rules (all of them are the reasons), else the default. */
function riskOf(rules: readonly CompiledRiskRule[], fallback: RiskLevel, context: StoredSession["context"] & { counters: Record<string, number> }): SessionRisk {
  const facts: Record<string, unknown> = {
    counters: context.counters,
    latest: context.behavior.latest,
    profile: context.customer.profile,
    channel: context.channel,
    messageCount: context.messageCount,
    recentTypes: context.behavior.recent.map((event) => event.type),
  };
  const matching = rules.filter((rule) => evaluateSync(rule.root, (fact) => facts[fact]));
  if (matching.length === 0) return { level: fallback, reasons: [] };
  const level = matching.reduce<RiskLevel>((top, rule) => (RISK_LEVELS.indexOf(rule.level) > RISK_LEVELS.indexOf(top) ? rule.level : top), "low");
  return { level, reasons: matching.filter((rule) => rule.level === level).map((rule) => rule.name) };
}

function duplicateNames(document: FusionDocument): RulesetProblem[] {
  const problems: RulesetProblem[] = [];
  const seen = new Set<string>();
  const check = (name: string, pointer: string): void => {
    if (seen.has(name)) problems.push({ pointer, message: `the name "${name}" is used twice; counters and latest values need distinct names` });
    seen.add(name);
  };
  document.counters.forEach((counter, index) => check(counter.name, `/counters/${index}/name`));
  document.latest.forEach((entry, index) => check(entry.name, `/latest/${index}/name`));
  const rules = new Set<string>();
  document.risk.rules.forEach((rule, index) => {
    if (rules.has(rule.name)) problems.push({ pointer: `/risk/rules/${index}/name`, rule: rule.name, message: `rule "${rule.name}": the name is already used` });
    rules.add(rule.name);
  });
  return problems;
}
