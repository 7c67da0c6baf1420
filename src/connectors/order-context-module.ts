import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { EventObserver } from "../events/hub-event.ts";
import type { Auth } from "../http/auth.ts";
import type { Validation } from "../http/validate.ts";
import type { HubModule } from "../hub-module.ts";
import type { BreakerStateMetric } from "../observability/breaker-state-metric.ts";
import type { PluginCaller, PluginKind } from "../plugins/plugin-caller.ts";
import type { BreakerSettings, BreakerState } from "../resilience/breaker-registry.ts";
import type { CachePolicy } from "../resilience/cache-entry.ts";
import { createInvalidationBus } from "../resilience/invalidation-bus.ts";
import { createRedisCacheTier } from "../resilience/redis-cache-tier.ts";
import { createSingleFlight } from "../resilience/single-flight.ts";
import { createSwrCache } from "../resilience/swr-cache.ts";
import { createConnectors } from "./connectors.ts";
import { createContextMetrics } from "./context-metrics.ts";
import { createHotContext } from "./hot-context.ts";
import { PART_NAMES, type PartName } from "./context-parts.ts";
import { orderChangeObserver } from "./order-change-observer.ts";
import { createOrderContextService, type ContextTimeouts, type OrderContextService } from "./order-context.ts";
import { createPartFetcher } from "./part-fetcher.ts";
import { breakerStatesOf, createPluginBreakers, type PluginBreakers } from "./plugin-breakers.ts";
import { contextRoutes } from "./routes.ts";

/** The order context's tuning; see docs/order-context.md. */
export interface OrderContextSettings extends ContextTimeouts {
  /** How long a plugin call may go on after the answer was sent, to fill the cache. @defaultValue 5000 */
  callTimeoutMs: number;
  /** Fresh lifetime per part. @defaultValue order 30, payments 30, shipments 60, customer 300 */
  ttlSeconds: Readonly<Record<PartName, number>>;
  /** How long past its TTL an entry may still be served (stale) while it is refreshed. @defaultValue 300 */
  maxStaleSeconds: number;
  /** Entries kept in process. @defaultValue 10000 */
  cacheMaxEntries: number;
  /** Share cached parts between hub instances through Redis. @defaultValue false */
  redisCache: boolean;
  breaker: BreakerSettings;
}

export interface OrderContextModuleOptions {
  settings: OrderContextSettings;
  caller: PluginCaller;
  auth: Auth;
  validation: Validation;
  metrics: Registry;
  /** The hub's `kefu_breaker_state`; the plugin-method breakers report to it. */
  breakerMetric: BreakerStateMetric;
  logger: Logger;
  /**
   * Needed when `settings.redisCache` is on: a connection for the cache, one to subscribe to other
   * instances' invalidations, and the hub's key prefix.
   */
  redis?: { connection: Redis; subscriber: Redis; keyPrefix: string };
}

export interface OrderContextModule extends HubModule {
  service: OrderContextService;
  breakers: PluginBreakers;
  /** Add to the ingestion's observers: drops cached parts of orders that events say changed. */
  observer: EventObserver;
  /** For `GET /v1/plugins`: the breaker state of each method of a plugin. */
  breakerStates(plugin: string): Record<string, BreakerState>;
}

export async function createOrderContextModule(options: OrderContextModuleOptions): Promise<OrderContextModule> {
  const { settings, caller, logger } = options;
  const log = logger.child({ module: "order-context" });
  const metrics = createContextMetrics(options.metrics);
  const breakers = createPluginBreakers({
    settings: settings.breaker,
    metric: options.breakerMetric,
    onStateChange: ({ plugin, method }, state) => log.warn({ plugin, method, state }, `circuit breaker of ${plugin}.${method} is ${state}`),
  });
  const shared = settings.redisCache ? options.redis : undefined;
  const tier = shared ? createRedisCacheTier({ redis: shared.connection, keyPrefix: `${shared.keyPrefix}:context:` }) : undefined;
  const cache = createSwrCache({
    maxEntries: settings.cacheMaxEntries,
    ...(tier ? { tier } : {}),
    onTierError: (error, operation) => log.warn({ err: error, operation }, "context cache: Redis tier failed; using the process cache only"),
  });
  const flights = createSingleFlight<unknown>();
  const bus = shared
    ? await createInvalidationBus({
        publisher: shared.connection,
        subscriber: shared.subscriber,
        channel: `${shared.keyPrefix}:context:invalidated`,
        onRemote: (keys) => {
          for (const key of keys) flights.forget(key);
          cache.invalidateLocal(keys);
        },
        onError: (error) => log.warn({ err: error }, "context cache: bad invalidation notice"),
      })
    : undefined;
  const connectors = createConnectors(caller);
  const policies = policiesOf(settings);
  const pluginFor = (kind: PluginKind): string | undefined => caller.pluginFor(kind);
  const fetchPart = createPartFetcher({
    binding: (kind) => caller.binding(kind),
    cache,
    breakers,
    flights,
    policies,
    callTimeoutMs: settings.callTimeoutMs,
    onRefreshError: (spec, plugin, error) => log.debug({ err: error, part: spec.part, plugin, key: spec.key }, "context part refresh failed"),
    onCacheResult: (part, result) => metrics.cacheResult(part, result),
  });
  const hot = createHotContext({ cache, policies, pluginFor, metrics });
  const service = createOrderContextService({
    connectors, fetchPart, cache, flights, timeouts: settings, metrics, hot,
    retryAfterSeconds: Math.max(1, Math.ceil(settings.breaker.resetTimeoutMs / 1000)),
    // Other instances drop their in-process copies; a failed notice must not fail the invalidation.
    ...(bus ? { onInvalidate: (keys: string[]) => bus.publish(keys).catch((error: unknown) => log.warn({ err: error }, "could not announce a context cache invalidation")) } : {}),
  });

  return {
    name: "order-context",
    router: contextRoutes({ auth: options.auth, validation: options.validation, service }),
    service,
    breakers,
    observer: orderChangeObserver({
      invalidate: (orderId) => service.invalidateOrder(orderId),
      onError: (error, orderId) => log.warn({ err: error, orderId }, "could not drop the cached context of a changed order"),
    }),
    breakerStates: (plugin) => breakerStatesOf(breakers, plugin),
    memoryReport: () => [
      { store: "order-context cache", ...cache.memoryReport() },
      // opossum keeps a rolling window of buckets per breaker: a per-breaker allowance, not a count.
      { store: "plugin breakers", entries: breakers.list().length, bytes: breakers.list().length * BREAKER_BYTES, estimated: true },
    ],
    async close() {
      breakers.close();
      await bus?.close();
    },
  };
}

/** An allowance per opossum breaker (its options, listeners and rolling-window buckets); not counted. */
const BREAKER_BYTES = 4096;

function policiesOf(settings: OrderContextSettings): Record<PartName, CachePolicy> {
  const maxStaleMs = settings.maxStaleSeconds * 1000;
  return Object.fromEntries(PART_NAMES.map((part) => [part, { ttlMs: settings.ttlSeconds[part] * 1000, maxStaleMs }])) as Record<PartName, CachePolicy>;
}
