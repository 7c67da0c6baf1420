import type { Logger } from "pino";
import type { HubConfig } from "../config/config.ts";
import type { FaultHook } from "../fault-points.ts";
import type { Auth } from "../http/auth.ts";
import type { Validation } from "../http/validate.ts";
import type { HubModule } from "../hub-module.ts";
import type { RedisFactory } from "../redis/redis-factory.ts";
import type { PeriodicTask } from "../resilience/periodic-task.ts";
import type { SchemaRegistry } from "../schemas/schema-registry.ts";
import { inboundKeys } from "./inbound-keys.ts";
import { createInboundProcessor, type InboundPorts } from "./inbound-processor.ts";
import { createInboundReceiver } from "./inbound-receiver.ts";
import { startInboundRecovery } from "./inbound-recovery.ts";
import type { InboundSourceInput } from "./inbound-source.ts";
import { createRawDeliveryStore } from "./raw-delivery-store.ts";
import { inboundRoutes } from "./routes.ts";
import { createSourceCache } from "./source-cache.ts";
import { createSourceService } from "./source-service.ts";
import { createSourceStore } from "./source-store.ts";
import type { InboundBehavior, InboundHubEvent } from "./transform-output.ts";

export interface InboundModuleOptions extends InboundPorts {
  config: HubConfig;
  logger: Logger;
  schemas: SchemaRegistry;
  redis: RedisFactory;
  auth: Auth;
  validation: Validation;
  faults?: FaultHook;
  /** Run recovery of stored but unprocessed deliveries in this process. @defaultValue true */
  recover?: boolean;
}

export interface InboundModule extends HubModule {
  /** `npm start`'s demo: creates a source unless one of that name exists. */
  ensureSource(name: string, input: InboundSourceInput): Promise<boolean>;
}

/** Inbound webhooks (docs/inbound-webhooks.md): sources, verifiers, raw-delivery store, transform step. */
export async function createInboundModule(options: InboundModuleOptions): Promise<InboundModule> {
  const { config, logger: parent, schemas, redis, auth, validation, faults } = options;
  const logger = parent.child({ module: "inbound" });
  const keys = inboundKeys(config.redisPrefix);
  const connection = redis.create("inbound", { enableAutoPipelining: true, commandTimeout: config.ingestTimeoutMs });
  const late: { invalidate?: () => void } = {};
  const sourceStore = createSourceStore(connection, keys, { onWrite: () => late.invalidate?.() });
  const cache = createSourceCache({ store: sourceStore, subscriber: redis.create("inbound-sources"), channel: keys.sourcesChanged, logger });
  late.invalidate = cache.invalidate;
  await cache.start();
  const sources = createSourceService(sourceStore);
  const deliveries = createRawDeliveryStore(connection, keys, config.eventsDedupeSeconds);
  const withFaults = faults ? { faults } : {};
  const receive = createInboundReceiver({ sourceOf: cache.get, store: deliveries, dedupeSeconds: config.eventsDedupeSeconds, ...withFaults });
  const process = createInboundProcessor({
    store: deliveries, sourceOf: cache.get, logger, ...withFaults,
    validators: { event: schemas.validator<InboundHubEvent>("events/event.schema.json"), behavior: schemas.validator<InboundBehavior>("sessions/behavior-event.schema.json") },
    transform: options.transform, ingestMany: options.ingestMany, behavior: options.behavior,
  });
  const recovery: PeriodicTask | undefined = options.recover === false ? undefined : startInboundRecovery({ store: deliveries, process, graceMs: config.eventsHandoffGraceMs, logger });
  return {
    name: "inbound",
    router: inboundRoutes({ auth, validation, sources, receive, process, deliveries }),
    async ensureSource(name, input) {
      if (await sourceStore.get(name)) return false;
      await sources.put(name, input);
      return true;
    },
    close: async () => {
      await recovery?.close();
    },
  };
}
