import { hash, randomUUID } from "node:crypto";
import { HubError, isHubError } from "../http/errors.ts";
import { boundErrors } from "../http/problem.ts";
import type { Logger } from "pino";
import type { Counter } from "prom-client";
import type { FieldError, SchemaRegistry } from "../schemas/schema-registry.ts";
import { toFieldErrors } from "../schemas/schema-registry.ts";
import { createSharedWait } from "../resilience/shared-wait.ts";
import type { EventHandOff } from "./event-handoff.ts";
import type { EventStore } from "./event-store.ts";
import type { AcceptedEvent, CompanionValues, EventEnricher, EventObserver, EventPriority, HubEvent, PlanHandOff, PlannedHandOff } from "./hub-event.ts";

/** An event as posted: the envelope with `id` and `priority` optional. */
export interface EventInput {
  id?: string;
  type: string;
  occurredAt: string;
  source: string;
  priority?: EventPriority;
  data: Record<string, unknown>;
}

export interface Accepted {
  id: string;
  duplicate: boolean;
}

/** One item's outcome of a call that accepts several. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export type BatchItemResult =
  | { index: number; status: 202; id: string; duplicate: boolean }
  | { index: number; status: 400; code: "validation_failed"; errors: FieldError[]; omittedErrors?: number }
  | { index: number; status: 409; code: "idempotency_conflict"; id: string };

export interface IngestService {
  /** Accepts an already validated event; resolves once it is durable (and, normally, its deliveries queued). */
  ingest(input: EventInput): Promise<Accepted>;
  /**
   * Accepts already validated events together: one Redis round trip stores them all, in order
   * (inbound webhooks hand over the events of a turn's deliveries this way); each is otherwise
   * accepted as `ingest` accepts it. One outcome per event: a reused id fails only its own.
   */
  ingestMany(inputs: readonly EventInput[]): Promise<Settled<Accepted>[]>;
  /** Validates and accepts each item on its own. */
  ingestBatch(items: readonly unknown[]): Promise<BatchItemResult[]>;
  /** The hub's own events (`kefu.*`): not validated against the public types; `only` limits fan-out to one subscription. */
  emit(event: Omit<EventInput, "source"> & { source?: string }, only?: string): Promise<Accepted>;
  get(id: string): Promise<AcceptedEvent | undefined>;
}

export interface IngestServiceOptions {
  store: EventStore;
  handOff: EventHandOff;
  /**
   * Delivery's plan for a new event, made before it is stored so that its records go in the
   * accept round trip. Without it, delivery writes them after the event is stored.
   */
  plan?: PlanHandOff;
  schemas: SchemaRegistry;
  /** Run in order on every event before it is stored (routing is one); a failing one is skipped. */
  enrichers: readonly EventEnricher[];
  observers: readonly EventObserver[];
  ingested: Counter<"type">;
  logger: Logger;
  /**
   * The 202 waits at most this long for delivery to take the event over; past it the event, already
   * durable and marked, is handed over by recovery. @defaultValue 2000
   */
  handOffWaitMs?: number;
}

export const EVENT_SCHEMA = "events/event.schema.json";

/**
 * Validate, enrich, store once, hand to delivery. Enrichment runs before the event is stored, so
 * that the stored event is the one delivered and no second write is needed: it is in memory for
 * rulesets that read no plugin facts, and only events whose rules need plugin facts wait for them
 * (bounded by the routing fact deadline).
 */
export function createIngestService(options: IngestServiceOptions): IngestService {
  const { store, handOff, plan, schemas, enrichers, observers, ingested, logger, handOffWaitMs = 2000 } = options;
  const validate = schemas.validator<EventInput>(EVENT_SCHEMA);
  const handOffWait = createSharedWait(handOffWaitMs);

  const enrich = async (event: HubEvent): Promise<HubEvent> => {
    let current = event;
    for (const enricher of enrichers) {
      try {
        current = await enricher(current);
      } catch (error) {
        // Delivered without that enrichment rather than refused: enrichers degrade, they do not veto.
        logger.error({ err: error, eventId: event.id, type: event.type }, "event enricher failed; delivering the event without its change");
      }
    }
    return current;
  };

  // A plan that fails (its subscriptions unreadable) only costs the shortcut: delivery then writes
  // its records after the event is stored, or recovery does.
  const planOf = async (accepted: AcceptedEvent): Promise<PlannedHandOff | undefined> => {
    try {
      return plan ? await plan(accepted) : undefined;
    } catch (error) {
      logger.warn({ err: error, eventId: accepted.event.id }, "delivery could not plan the event's hand-off; it is handed over after it is stored");
      return undefined;
    }
  };

  // The counter's child per type, looked up once: inc({type}) hashes the labels on every call.
  // Bounded by the event types the schemas allow plus the hub's own.
  const ingestedOf = new Map<string, { inc(): void }>();
  const countIngested = (type: string): void => {
    let child = ingestedOf.get(type);
    if (!child) ingestedOf.set(type, (child = ingested.labels(type)));
    child.inc();
  };

  const notify = (event: HubEvent): void => {
    countIngested(event.type);
    for (const observer of observers) {
      try {
        observer(event);
      } catch (error) {
        logger.error({ err: error, eventId: event.id }, "event observer threw");
      }
    }
  };

  const prepare = async (input: EventInput, only?: string): Promise<{ accepted: AcceptedEvent; planned: PlannedHandOff | undefined }> => {
    const event = await enrich({
      id: input.id ?? `evt_${randomUUID()}`,
      type: input.type,
      occurredAt: input.occurredAt,
      source: input.source,
      priority: input.priority ?? "normal",
      data: input.data,
    });
    const accepted: AcceptedEvent = { event, acceptedAt: Date.now(), bodyHash: bodyHashOf(input), ...(only ? { only } : {}) };
    return { accepted, planned: await planOf(accepted) };
  };

  const conflict = (id: string): HubError => new HubError("idempotency_conflict", `event ${id} was already accepted with a different body; send a new event with a new id`);

  const accept = async (input: EventInput, only?: string): Promise<Accepted> => {
    const { accepted, planned } = await prepare(input, only);
    const { event } = accepted;
    const { outcome, values } = await store.acceptReading(accepted, planned?.records, planned?.reads ?? []);
    if (outcome === "conflict") throw conflict(event.id);
    if (outcome === "duplicate") return { id: event.id, duplicate: true };
    notify(event);
    await settleHandOffs([{ accepted, planned, values }]);
    return { id: event.id, duplicate: false };
  };

  const acceptMany = async (inputs: readonly EventInput[]): Promise<Settled<Accepted>[]> => {
    const prepared = await Promise.all(inputs.map((input) => prepare(input)));
    const outcomes = await store.acceptMany(prepared.map(({ accepted, planned }) => ({ accepted, records: planned?.records })));
    const stored: { accepted: AcceptedEvent; planned: PlannedHandOff | undefined }[] = [];
    const results = prepared.map((item, index): Settled<Accepted> => {
      const { id } = item.accepted.event;
      const outcome = outcomes[index];
      if (outcome === "conflict") return { ok: false, error: conflict(id) };
      if (outcome === "duplicate") return { ok: true, value: { id, duplicate: true } };
      notify(item.accepted.event);
      stored.push(item);
      return { ok: true, value: { id, duplicate: false } };
    });
    await settleHandOffs(stored);
    return results;
  };

  // The event is durable and still marked once stored: a failed or slow hand-off is finished by
  // recovery, so the 202 stands either way and never waits longer than handOffWaitMs.
  // Several events' hand-offs under one bounded wait (on the timer every hand-off wait shares).
  const settleHandOffs = async (items: readonly { accepted: AcceptedEvent; planned: PlannedHandOff | undefined; values?: CompanionValues | undefined }[]): Promise<void> => {
    if (items.length === 0) return;
    const handingOff = Promise.all(items.map(({ accepted, planned, values }) => handOff.handOff(accepted, planned, values).then(
      () => "done" as const,
      (error: unknown) => logger.error({ err: error, eventId: accepted.event.id }, "hand-off to delivery failed; recovery hands the event over"),
    )));
    const result = await handOffWait.within(handingOff, () => "late" as const);
    if (result !== "late") return;
    const which = items.length === 1 ? { eventId: items[0]?.accepted.event.id } : { eventIds: items.map(({ accepted }) => accepted.event.id).slice(0, 20), events: items.length };
    logger.warn({ ...which, waitedMs: handOffWaitMs }, "hand-off to delivery is slow; answered 202, recovery finishes it if it fails");
  };

  return {
    ingest: (input) => accept(input),
    ingestMany: (inputs) => acceptMany(inputs),
    async ingestBatch(items) {
      return Promise.all(
        items.map(async (item, index): Promise<BatchItemResult> => {
          if (!validate(item)) return { index, status: 400, code: "validation_failed", ...boundErrors(toFieldErrors(validate.errors)) };
          try {
            const { id, duplicate } = await accept(item);
            return { index, status: 202, id, duplicate };
          } catch (error) {
            if (isHubError(error) && error.code === "idempotency_conflict") return { index, status: 409, code: "idempotency_conflict", id: String(item.id) };
            throw error;
          }
        }),
      );
    },
    emit: (event, only) => accept({ source: "kefu-hub", ...event }, only),
    get: (id) => store.get(id),
  };
}

/**
 * What makes two posts of one id the same event: the envelope as posted (the same body sent again
 * serialises the same way). 16 bytes of SHA-256 is plenty to tell a retry from a reuse.
 */
function bodyHashOf({ type, occurredAt, source, priority, data }: EventInput): string {
  // The one-shot form: a Hash object per event costs more than the hashing.
  return hash("sha256", JSON.stringify([type, occurredAt, source, priority ?? "normal", data]), "base64url").slice(0, 22);
}
