import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";
import type { HubConfig } from "../config/config.ts";
import type { FaultHook } from "../fault-points.ts";
import type { Auth } from "../http/auth.ts";
import type { Validation } from "../http/validate.ts";
import type { HubModule } from "../hub-module.ts";
import type { RedisFactory } from "../redis/redis-factory.ts";
import type { SchemaRegistry } from "../schemas/schema-registry.ts";
import { createEventHandOff } from "./event-handoff.ts";
import { eventKeys } from "./event-keys.ts";
import { createEventStore } from "./event-store.ts";
import type { EventEnricher, EventObserver, HandOff, PlanHandOff } from "./hub-event.ts";
import { createIngestService, type IngestService } from "./ingest-service.ts";
import { eventFastWrite, eventRoutes, type DeliveriesOfEvent } from "./routes.ts";

export interface EventsModuleOptions {
  config: HubConfig;
  logger: Logger;
  schemas: SchemaRegistry;
  redis: RedisFactory;
  registry: Registry;
  auth: Auth;
  validation: Validation;
  /** Run on every event before it is stored, in order (routing adds one). */
  enrichers: readonly EventEnricher[];
  /** Told of every newly accepted event once it is stored (order context adds one). */
  observers: readonly EventObserver[];
  /** Delivery's fan-out (also hand-off recovery's). */
  deliver: HandOff;
  /** Delivery's plan of a new event, whose records the accept script writes (see {@link PlanHandOff}). */
  plan?: PlanHandOff;
  /** Delivery's page of an event's deliveries, for `GET /v1/events/{id}`. */
  deliveriesOf: DeliveriesOfEvent;
  faults?: FaultHook;
}

export interface EventsModule extends HubModule {
  ingest: IngestService;
}

/**
 * Ingestion, the event store, dedupe and enrichment. Hands each accepted event to delivery through
 * the `deliver` port, and hands over again what a stopped process left half done (only where
 * delivery workers run: an API-only hub leaves that to the workers).
 */
export function createEventsModule(options: EventsModuleOptions): EventsModule {
  const { config, logger, schemas, redis, registry, auth, validation, enrichers, observers, deliver, plan, deliveriesOf, faults } = options;
  // Auto-pipelining: the commands of concurrent requests leave in one socket write per tick.
  // A bounded wait: during a Redis outage ingest answers 503 instead of holding the post.
  const connection = redis.create("events", { enableAutoPipelining: true, commandTimeout: config.ingestTimeoutMs });
  const store = createEventStore(connection, eventKeys(config.redisPrefix), config.eventsDedupeSeconds);
  const handOff = createEventHandOff({ store, deliver, graceMs: config.eventsHandoffGraceMs, logger, ...(faults ? { faults } : {}) });
  const ingested = new Counter({
    name: "kefu_events_ingested_total",
    help: "Events accepted (not counting duplicates), by type",
    labelNames: ["type"] as const,
    registers: [registry],
  });
  const ingest = createIngestService({ store, handOff, ...(plan ? { plan } : {}), schemas, enrichers, observers, ingested, logger, handOffWaitMs: config.ingestTimeoutMs });
  if (config.deliveryWorkers) handOff.start();
  return {
    name: "events",
    ingest,
    router: eventRoutes({ auth, validation, ingest, deliveriesOf }),
    fastWrites: [eventFastWrite({ auth, ingest, schemas })],
    close: () => handOff.close(),
  };
}
