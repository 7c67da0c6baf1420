import type { Counter } from "prom-client";
import type { FaultHook } from "../fault-points.ts";
import type { ValidateFunction } from "ajv";
import { toFieldErrors, type FieldError } from "../schemas/schema-registry.ts";
import type { BehaviorSink } from "./behavior-source.ts";
import type { BehaviorDeadLetters } from "./dead-letters.ts";
import type { Fusion } from "./fusion.ts";
import type { SessionMirror } from "./session-mirror.ts";
import type { ChangeRequest, SessionUpdater } from "./session-updater.ts";
import type { BehaviorEvent } from "./session-types.ts";

export const BEHAVIOR_OUTCOMES = ["applied", "filtered", "duplicate", "invalid"] as const;
export type BehaviorOutcome = (typeof BEHAVIOR_OUTCOMES)[number];

export type BehaviorItemResult =
  | { index: number; outcome: "applied" | "filtered" | "duplicate"; id: string }
  | { index: number; outcome: "invalid"; errors: FieldError[] };

export interface BehaviorIntake {
  /** The sink a stream source hands its raw items to. */
  sinkFor(source: string): BehaviorSink;
  /** Items already parsed (the HTTP API), with a result per item. */
  submit(source: string, items: readonly unknown[]): Promise<BehaviorItemResult[]>;
}

export interface BehaviorIntakeOptions {
  mirror: SessionMirror;
  updater: SessionUpdater;
  fusion: () => Fusion;
  validate: ValidateFunction<BehaviorEvent>;
  deadLetters: BehaviorDeadLetters;
  counter: Counter<"source" | "outcome">;
  now?: () => number;
  /** Larger items are invalid. @defaultValue 65536 */
  maxItemBytes?: number;
  faults?: FaultHook;
}

// Read before parsing: most events are for customers without an open session, and the filter
// decides on this alone. A miss (e.g. escaped quotes in the id) only means a full parse.
const CUSTOMER_ID = /"customerId"\s*:\s*"([^"\\]*)"/;
const decoder = new TextDecoder();

type Parsed = { kind: "event"; event: BehaviorEvent } | { kind: "filtered"; id: string } | { kind: "invalid"; errors: FieldError[]; raw: string };

/**
 * The one path behaviour events take into sessions, from every source: filter by open session
 * (Bloom filter, then the set), validate, fold into each open session of the customer with the
 * active fusion, count. Invalid items are dead-lettered; nothing stalls a source.
 */
export function createBehaviorIntake(options: BehaviorIntakeOptions): BehaviorIntake {
  const { mirror, updater, fusion, validate, deadLetters, counter, now = Date.now, maxItemBytes = 65_536, faults } = options;

  const check = (value: unknown, raw: string): Parsed => {
    if (!validate(value)) return { kind: "invalid", errors: toFieldErrors(validate.errors).slice(0, 20), raw };
    if (mirror.openSessionsOf(value.customerId).length === 0 || !fusion().uses(value.type)) return { kind: "filtered", id: value.id };
    return { kind: "event", event: value };
  };

  const parseRaw = (item: string | Uint8Array): Parsed => {
    const raw = typeof item === "string" ? item : decoder.decode(item);
    const customerId = CUSTOMER_ID.exec(raw)?.[1];
    if (customerId !== undefined && !mirror.mightHaveOpenSession(customerId)) return { kind: "filtered", id: "" };
    if (raw.length > maxItemBytes) return { kind: "invalid", errors: [{ pointer: "", message: `is larger than ${maxItemBytes} bytes` }], raw };
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return { kind: "invalid", errors: [{ pointer: "", message: "is not valid JSON" }], raw };
    }
    return check(value, raw);
  };

  const parseValue = (item: unknown): Parsed => {
    const customerId = (item as { customerId?: unknown } | null)?.customerId;
    if (typeof customerId === "string" && validate(item) && !mirror.mightHaveOpenSession(customerId)) return { kind: "filtered", id: (item).id };
    const raw = JSON.stringify(item) ?? "";
    if (raw.length > maxItemBytes) return { kind: "invalid", errors: [{ pointer: "", message: `is larger than ${maxItemBytes} bytes` }], raw };
    return check(item, raw);
  };

  /** Folds the events into their sessions, all sessions in one write; one outcome per event. */
  const applyEvents = async (events: readonly BehaviorEvent[]): Promise<BehaviorOutcome[]> => {
    const bySession = new Map<string, BehaviorEvent[]>();
    for (const event of events) {
      for (const sessionId of mirror.openSessionsOf(event.customerId)) {
        const list = bySession.get(sessionId);
        if (list) list.push(event);
        else bySession.set(sessionId, [event]);
      }
    }
    const requests = [...bySession].map(([sessionId, sessionEvents]): ChangeRequest => ({
      sessionId,
      ids: [...new Set(sessionEvents.map((event) => event.id))],
      mutate: (current, pending) => {
        if (!current || current.context.state !== "open") return undefined;
        return fusion().apply(current, sessionEvents.filter((event) => pending.has(event.id)), now());
      },
    }));
    const results = await updater.changeMany(requests);
    const applied = new Set<string>();
    const duplicate = new Set<string>();
    results.forEach(({ outcome, duplicates }, index) => {
      for (const id of (requests[index] as ChangeRequest).ids) {
        if (duplicates.has(id)) duplicate.add(id);
        else if (outcome === "applied") applied.add(id);
      }
    });
    return events.map((event) => (applied.has(event.id) ? "applied" : duplicate.has(event.id) ? "duplicate" : "filtered"));
  };

  const settle = async (source: string, parsed: readonly Parsed[]): Promise<BehaviorOutcome[]> => {
    const events = parsed.flatMap((item) => (item.kind === "event" ? [item.event] : []));
    const invalid = parsed.flatMap((item) => (item.kind === "invalid" ? [{ source, reason: item.errors.map((e) => `${e.pointer || "/"} ${e.message}`).join("; "), raw: item.raw }] : []));
    const [eventOutcomes] = await Promise.all([applyEvents(events), deadLetters.add(invalid)]);
    let next = 0;
    const outcomes = parsed.map((item): BehaviorOutcome => (item.kind === "event" ? (eventOutcomes[next++] as BehaviorOutcome) : item.kind));
    const tally = new Map<BehaviorOutcome, number>();
    for (const outcome of outcomes) tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
    for (const [outcome, count] of tally) counter.inc({ source, outcome }, count);
    return outcomes;
  };

  return {
    sinkFor: (source) => async (items) => {
      await settle(source, items.map(parseRaw));
      await faults?.("behavior.applied");
    },
    async submit(source, items) {
      const parsed = items.map(parseValue);
      const outcomes = await settle(source, parsed);
      return parsed.map((item, index): BehaviorItemResult => {
        if (item.kind === "invalid") return { index, outcome: "invalid", errors: item.errors };
        const id = item.kind === "event" ? item.event.id : item.id;
        return { index, outcome: outcomes[index] as "applied" | "filtered" | "duplicate", id };
      });
    },
  };
}
