import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Counter } from "prom-client";
import type { FieldError, SchemaRegistry } from "../schemas/schema-registry.ts";
import { toFieldErrors } from "../schemas/schema-registry.ts";
import type { EventStore, StoredEvent } from "./event-store.ts";
import type { EventObserver, EventPriority, HubEvent } from "./hub-event.ts";

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
  | { index: number; status: 400; code: "validation_failed"; errors: FieldError[] };

export interface IngestService {
  /** Accepts an already validated event; resolves once it is durable and queued for fan-out. */
  ingest(input: EventInput): Promise<Accepted>;
  /** Validates and accepts each item on its own. */
  ingestBatch(items: readonly unknown[]): Promise<BatchItemResult[]>;
  /** The hub's own events (`kefu.*`): not validated against the public types; `only` limits fan-out to one subscription. */
  emit(event: Omit<EventInput, "source"> & { source?: string }, only?: string): Promise<Accepted>;
  get(id: string): Promise<StoredEvent | undefined>;
}

export interface IngestServiceOptions {
  store: EventStore;
  schemas: SchemaRegistry;
  observers: readonly EventObserver[];
  ingested: Counter<"type">;
  logger: Logger;
}

export const EVENT_SCHEMA = "events/event.schema.json";

export function createIngestService({ store, schemas, observers, ingested, logger }: IngestServiceOptions): IngestService {
  const validate = schemas.validator<EventInput>(EVENT_SCHEMA);

  const accept = async (input: EventInput, only?: string): Promise<Accepted> => {
    const event: HubEvent = {
      id: input.id ?? `evt_${randomUUID()}`,
      type: input.type,
      occurredAt: input.occurredAt,
      source: input.source,
      priority: input.priority ?? "normal",
      data: input.data,
    };
    const { duplicate } = await store.accept(event, only);
    if (!duplicate) {
      ingested.inc({ type: event.type });
      for (const observer of observers) {
        try {
          observer(event);
        } catch (error) {
          logger.error({ err: error, eventId: event.id }, "event observer threw");
        }
      }
    }
    return { id: event.id, duplicate };
  };

  return {
    ingest: (input) => accept(input),
    async ingestBatch(items) {
      return Promise.all(
        items.map(async (item, index): Promise<BatchItemResult> => {
          if (!validate(item)) return { index, status: 400, code: "validation_failed", errors: toFieldErrors(validate.errors) };
          const { id, duplicate } = await accept(item);
          return { index, status: 202, id, duplicate };
        }),
      );
    },
    emit: (event, only) => accept({ source: "kefu-hub", ...event }, only),
    get: (id) => store.get(id),
  };
}
