import type { Express } from "express";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { HubConfig } from "./config/config.ts";
import { contextSettingsFrom } from "./connectors/context-settings.ts";
import { createOrderContextModule } from "./connectors/order-context-module.ts";
import { createAuth } from "./http/auth.ts";
import { createHttpApp } from "./http/create-http-app.ts";
import { createValidation } from "./http/validate.ts";
import { bundleOpenApi } from "./http/openapi-document.ts";
import { whoamiRoutes } from "./http/whoami-routes.ts";
import { isReadyState, type HubModule } from "./hub-module.ts";
import type { ReadinessReport } from "./observability/health-routes.ts";
import { createBreakerStateMetric } from "./observability/breaker-state-metric.ts";
import { createMetrics, type HubMetrics } from "./observability/metrics.ts";
import type { HubPaths } from "./paths.ts";
import type { PluginHost } from "./plugins/plugin-host.ts";
import { pluginModule, startPluginHost } from "./plugins/plugin-module.ts";
import type { RedisFactory } from "./redis/redis-factory.ts";
import { createRoutingModule } from "./routing/routing-module.ts";
import { createDeliveryModule, type DeliveryModule } from "./delivery/delivery-module.ts";
import { createEventsModule, type EventsModule } from "./events/events-module.ts";
import type { EventEnricher, EventObserver } from "./events/hub-event.ts";
import type { FaultHook } from "./fault-points.ts";
import type { SchemaRegistry } from "./schemas/schema-registry.ts";

export interface HubDependencies {
  config: HubConfig;
  logger: Logger;
  schemas: SchemaRegistry;
  redis: RedisFactory;
  paths: HubPaths;
  /** Where plugin secrets (`KEFU_PLUGIN_SECRET_<PLUGIN>_<NAME>`) are read. @defaultValue process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Called at each crash point of the write paths (src/fault-points.ts); tests only. */
  faults?: FaultHook;
}

export interface Hub {
  app: Express;
  metrics: HubMetrics;
  /** The plugin host; the rest of the hub sees it as a PluginCaller. */
  plugins: PluginHost;
  /** From now on answers carry `Connection: close`. */
  startDraining(): void;
  /** Closes every module, then Redis; each step runs even when an earlier one fails. Idempotent. */
  close(): Promise<void>;
}

/**
 * The composition root: every module is created here with what it depends on. A start that fails
 * halfway closes, in reverse, what it had opened (the plugin runner, Redis connections, workers),
 * so that nothing is left running (as avvio unwinds a failed boot).
 */
export async function createHub(dependencies: HubDependencies): Promise<Hub> {
  const opened: { name: string; close: () => Promise<void> | void }[] = [{ name: "redis", close: () => dependencies.redis.closeAll() }];
  try {
    return await composeHub(dependencies, (module) => {
      if (module.close) opened.push({ name: module.name, close: () => module.close?.() });
      return module;
    });
  } catch (error) {
    for (const { name, close } of opened.reverse()) {
      try {
        await close();
      } catch (closeError) {
        dependencies.logger.error({ err: closeError, module: name }, "could not close a module of a failed start");
      }
    }
    throw error;
  }
}

async function composeHub(
  { config, logger, schemas, redis, paths, env = process.env, faults }: HubDependencies,
  opened: <T extends HubModule>(module: T) => T,
): Promise<Hub> {
  const metrics = createMetrics();
  // One `kefu_breaker_state` for the plugin-method and the webhook-origin breakers (one name, one gauge).
  const breakerMetric = createBreakerStateMetric(metrics.registry);
  const auth = createAuth(config.apiKeys);
  const validation = createValidation(schemas);
  const redisMain = redis.create("main");
  const plugins = await startPluginHost({ config, logger, schemas, registry: metrics.registry, redisUrl: redis.url, env });
  const pluginsModule = opened(pluginModule({ host: plugins, auth, validation, breakerStates: (plugin) => context.breakerStates(plugin) }));

  const routing = await createRoutingModule({ config, logger, redis, schemas, registry: metrics.registry, auth, plugins });
  opened(routing.module);

  const context = opened(await createOrderContextModule({
    settings: contextSettingsFrom(config),
    caller: plugins,
    auth,
    validation,
    metrics: metrics.registry,
    breakerMetric,
    logger,
    ...(config.contextRedisCache
      ? { redis: { connection: redis.create("context-cache"), subscriber: redis.create("context-invalidation"), keyPrefix: config.redisPrefix } }
      : {}),
  }));

  // Run in order on every event before it is stored (routing adds its enricher here).
  const enrichers: EventEnricher[] = [routing.enricher];
  // Told of every newly accepted event once it is stored (order context adds one here).
  const observers: EventObserver[] = [context.observer];
  // Events hand accepted events to delivery; delivery emits its own kefu.* events through events.
  // Delivery is created first, so its `emit` port is bound to events once that exists.
  const late: { events?: EventsModule } = {};
  const withFaults = faults ? { faults } : {};
  const delivery: DeliveryModule = opened(await createDeliveryModule({
    config, logger, redis, registry: metrics.registry, breakerMetric, auth, validation, ...withFaults,
    emit: (event, only) => (late.events ?? notReady("events")).ingest.emit(event, only),
  }));
  const events = (late.events = opened(createEventsModule({
    config, logger, schemas, redis, registry: metrics.registry, auth, validation, enrichers, observers, ...withFaults,
    deliver: (accepted, options) => delivery.deliver(accepted, options),
    deliveriesOf: (eventId, limit, cursor) => delivery.deliveriesOf(eventId, limit, cursor),
  })));

  const modules: HubModule[] = [
    { name: "whoami", router: whoamiRoutes(auth) },
    routing.module,
    pluginsModule,
    context,
    // Closed in reverse: events first (no new hand-offs), then delivery's workers.
    delivery,
    events,
  ];

  const readiness = async (): Promise<ReadinessReport> => {
    const checks: Record<string, string> = { redis: await pingRedis(redisMain) };
    for (const module of modules) {
      if (!module.readiness) continue;
      try {
        checks[module.name] = await module.readiness();
      } catch (error) {
        checks[module.name] = (error as Error).message;
      }
    }
    return { ready: Object.values(checks).every(isReadyState), checks };
  };

  let draining = false;
  const app = createHttpApp({
    logger,
    metrics,
    openapi: bundleOpenApi({ rootFile: paths.openapi, schemasDir: paths.schemas, schemas }),
    bodyLimit: config.bodyLimit,
    routers: modules.flatMap((module) => (module.router ? [module.router] : [])),
    readiness,
    isDraining: () => draining,
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      for (const module of [...modules].reverse()) {
        try {
          await module.close?.();
        } catch (error) {
          logger.error({ err: error, module: module.name }, "module failed to close");
        }
      }
      await redis.closeAll();
    })());

  return { app, metrics, plugins, startDraining: () => (draining = true), close };
}

function notReady(feature: string): never {
  throw new Error(`the ${feature} module is not created yet`);
}

async function pingRedis(redis: Redis): Promise<string> {
  if (redis.status !== "ready") return `redis is ${redis.status}`;
  const timeout = new Promise<string>((resolve) => setTimeout(() => resolve("redis did not answer PING within 1s"), 1000).unref());
  return Promise.race([redis.ping().then(() => "ok", (error: Error) => error.message), timeout]);
}
