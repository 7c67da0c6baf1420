import { createHash, randomUUID } from "node:crypto";
import { HubError, isHubError } from "../http/errors.ts";
import type { Logger } from "pino";
import type { Counter } from "prom-client";
import type { FieldError, SchemaRegistry } from "../schemas/schema-registry.ts";
import { toFieldErrors } from "../schemas/schema-registry.ts";
import type { EventHandOff } from "./event-handoff.ts";
import type { EventStore } from "./event-store.ts";
import type { AcceptedEvent, EventEnricher, EventObserver, EventPriority, HubEvent } from "./hub-event.ts";

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

export type BatchItemResult =
  | { index: number; status: 202; id: string; duplicate: boolean }
  | { index: number; status: 400; code: "validation_failed"; errors: FieldError[] }
  | { index: number; status: 409; code: "idempotency_conflict"; id: string };

export interface IngestService {
  /** Accepts an already validated event; resolves once it is durable (and, normally, its deliveries queued). */
  ingest(input: EventInput): Promise<Accepted>;
  /** Validates and accepts each item on its own. */
  ingestBatch(items: readonly unknown[]): Promise<BatchItemResult[]>;
  /** The hub's own events (`kefu.*`): not validated against the public types; `only` limits fan-out to one subscription. */
  emit(event: Omit<EventInput, "source"> & { source?: string }, only?: string): Promise<Accepted>;
  get(id: string): Promise<AcceptedEvent | undefined>;
}

export interface IngestServiceOptions {
  store: EventStore;
  handOff: EventHandOff;
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
  const { store, handOff, schemas, enrichers, observers, ingested, logger, handOffWaitMs = 2000 } = options;
  const validate = schemas.validator<EventInput>(EVENT_SCHEMA);

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

  const notify = (event: HubEvent): void => {
    ingested.inc({ type: event.type });
    for (const observer of observers) {
      try {
        observer(event);
      } catch (error) {
        logger.error({ err: error, eventId: event.id }, "event observer threw");
      }
    }
  };

  const accept = async (input: EventInput, only?: string): Promise<Accepted> => {
    const event = await enrich({
      id: input.id ?? `evt_${randomUUID()}`,
      type: input.type,
      occurredAt: input.occurredAt,
      source: input.source,
      priority: input.priority ?? "normal",
      data: input.data,
    });
    const accepted: AcceptedEvent = { event, acceptedAt: Date.now(), bodyHash: bodyHashOf(input), ...(only ? { only } : {}) };
    const outcome = await store.accept(accepted);
    if (outcome === "conflict") {
      throw new HubError("idempotency_conflict", `event ${event.id} was already accepted with a different body; send a new event with a new id`);
    }
    if (outcome === "duplicate") return { id: event.id, duplicate: true };
    notify(event);
    await settleHandOff(accepted);
    return { id: event.id, duplicate: false };
  };

  // The event is durable and still marked once stored: a failed or slow hand-off is finished by
  // recovery, so the 202 stands either way and never waits longer than handOffWaitMs.
  const settleHandOff = async (accepted: AcceptedEvent): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const handingOff = handOff.handOff(accepted).then(
      () => "done" as const,
      (error: unknown) => logger.error({ err: error, eventId: accepted.event.id }, "hand-off to delivery failed; recovery hands the event over"),
    );
    const waited = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), handOffWaitMs)));
    const result = await Promise.race([handingOff, waited]);
    clearTimeout(timer);
    if (result === "late") logger.warn({ eventId: accepted.event.id, waitedMs: handOffWaitMs }, "hand-off to delivery is slow; answered 202, recovery finishes it if it fails");
  };

  return {
    ingest: (input) => accept(input),
    async ingestBatch(items) {
      return Promise.all(
        items.map(async (item, index): Promise<BatchItemResult> => {
          if (!validate(item)) return { index, status: 400, code: "validation_failed", errors: toFieldErrors(validate.errors) };
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
  return createHash("sha256").update(JSON.stringify([type, occurredAt, source, priority ?? "normal", data])).digest("base64url").slice(0, 22);
}
