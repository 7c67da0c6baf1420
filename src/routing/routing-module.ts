import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { HubConfig } from "../config/config.ts";
import type { EventEnricher } from "../events/hub-event.ts";
import type { Auth } from "../http/auth.ts";
import { createValidation } from "../http/validate.ts";
import type { HubModule } from "../hub-module.ts";
import type { PluginCaller } from "../plugins/plugin-caller.ts";
import type { RedisFactory } from "../redis/redis-factory.ts";
import type { SchemaRegistry } from "../schemas/schema-registry.ts";
import { assertTimeZone, createClock } from "./facts.ts";
import { createPluginRecordFetcher } from "./plugin-records.ts";
import { createRecentEvents } from "./recent-events.ts";
import { createRouter, type Router } from "./router.ts";
import { createRulesetChecker } from "./ruleset-checker.ts";
import { BUILT_IN_VERSION, createRulesetStore } from "./ruleset-store.ts";
import { createRulesetSync } from "./ruleset-sync.ts";
import { createRoutingEnricher } from "./routing-enricher.ts";
import { createRoutingMetrics } from "./routing-metrics.ts";
import { RoutingService } from "./routing-service.ts";
import { routingRoutes } from "./routes.ts";

export interface RoutingModuleOptions {
  config: HubConfig;
  logger: Logger;
  redis: RedisFactory;
  schemas: SchemaRegistry;
  registry: Registry;
  auth: Auth;
  /** The plugin host; without it plugin-backed facts are unavailable (decisions say degraded). */
  plugins?: PluginCaller;
}

export interface RoutingModule {
  module: HubModule;
  /** For the ingestion service's `enrichers`. */
  enricher: EventEnricher;
  router: Router;
  service: RoutingService;
}

/** Builds routing and brings it to Redis's current ruleset (and KEFU_ROUTING_RULES) before returning. */
export async function createRoutingModule({ config, logger: parent, redis, schemas, registry, auth, plugins }: RoutingModuleOptions): Promise<RoutingModule> {
  const logger = parent.child({ module: "routing" });
  assertTimeZone(config.timezone);
  const clock = createClock(config.timezone);
  const checker = createRulesetChecker(schemas);
  const fetcher = createPluginRecordFetcher({ ...(plugins ? { caller: plugins } : {}), cacheTtlSeconds: config.routingFactCacheTtlSeconds });
  const initial = { version: 0, compiled: checker.compileOrThrow(BUILT_IN_VERSION.ruleset).compiled };
  const router = createRouter({ initial, clock, fetcher, factTimeoutMs: config.routingFactTimeoutMs });
  const metrics = createRoutingMetrics(registry);
  const connection = redis.create("routing");
  const store = createRulesetStore(connection, config.redisPrefix);
  const recent = createRecentEvents(connection, config.redisPrefix, config.routingRecentEvents);
  const sync = createRulesetSync({
    store,
    router,
    subscriber: redis.create("routing-subscriber"),
    compile: (document) => checker.compileOrThrow(document).compiled,
    reconcileSeconds: config.routingReconcileSeconds,
    logger,
    onSwap: (version) => {
      metrics.version.set(version);
      metrics.reloads.inc();
    },
  });
  const service = new RoutingService({
    store,
    router,
    checker,
    sync,
    recent,
    clock,
    fetcher,
    factTimeoutMs: config.routingFactTimeoutMs,
    logger,
    ...(config.routingRules ? { seedFile: config.routingRules } : {}),
  });
  await service.start();
  const validation = createValidation(schemas);
  return {
    module: { name: "routing", router: routingRoutes({ auth, validation, service }), close: () => sync.close() },
    enricher: createRoutingEnricher({ router, metrics, recent, logger }),
    router,
    service,
  };
}
