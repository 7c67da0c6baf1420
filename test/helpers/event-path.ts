import { Registry } from "prom-client";
import type { HubConfig } from "../../src/config/config.ts";
import { createDeliveryModule, type DeliveryModule } from "../../src/delivery/delivery-module.ts";
import { createEventsModule, type EventsModule } from "../../src/events/events-module.ts";
import type { EventEnricher, EventObserver } from "../../src/events/hub-event.ts";
import type { FaultHook } from "../../src/fault-points.ts";
import { createAuth } from "../../src/http/auth.ts";
import { createValidation } from "../../src/http/validate.ts";
import { createBreakerStateMetric } from "../../src/observability/breaker-state-metric.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { createRedisFactory } from "../../src/redis/redis-factory.ts";
import type { SchemaRegistry } from "../../src/schemas/schema-registry.ts";
import { TEST_REDIS_URL } from "./test-hub.ts";

export interface EventPath {
  events: EventsModule;
  delivery: DeliveryModule;
  close(): Promise<void>;
}

/**
 * The events and delivery modules wired as src/app.ts wires them, without HTTP, plugins or
 * routing: for tests that bring their own enrichers, observers or fault hook.
 */
export async function startEventPath(options: {
  config: HubConfig;
  schemas: SchemaRegistry;
  enrichers?: EventEnricher[];
  observers?: EventObserver[];
  faults?: FaultHook;
}): Promise<EventPath> {
  const { config, schemas, enrichers = [], observers = [], faults } = options;
  const logger = createLogger({ level: (process.env["KEFU_TEST_LOG_LEVEL"] as HubConfig["logLevel"] | undefined) ?? "silent", format: "json", isTty: false });
  const redis = createRedisFactory(config.redisUrl ?? TEST_REDIS_URL, logger);
  const registry = new Registry();
  const auth = createAuth([]);
  const validation = createValidation(schemas);
  const late: { events?: EventsModule } = {};
  const delivery = await createDeliveryModule({
    config, logger, redis, registry, breakerMetric: createBreakerStateMetric(registry), auth, validation, ...(faults ? { faults } : {}),
    emit: (event, only) => {
      if (!late.events) throw new Error("events module not created yet");
      return late.events.ingest.emit(event, only);
    },
  });
  const events = (late.events = createEventsModule({
    config, logger, schemas, redis, registry, auth, validation, enrichers, observers, ...(faults ? { faults } : {}),
    deliver: (accepted, handOff) => delivery.deliver(accepted, handOff),
    plan: (accepted) => delivery.plan(accepted),
    deliveriesOf: (eventId, limit, cursor) => delivery.deliveriesOf(eventId, limit, cursor),
  }));
  const created = events;
  return {
    events: created,
    delivery,
    async close() {
      await created.close?.();
      await delivery.close?.();
      await redis.closeAll();
    },
  };
}
