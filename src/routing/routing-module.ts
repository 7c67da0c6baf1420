import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { HubConfig } from "../config/config.ts";
import type { EventEnricher } from "../events/hub-event.ts";
import type { Auth } from "../http/auth.ts";
import { isHubError } from "../http/errors.ts";
import { createValidation } from "../http/validate.ts";
import type { HubModule } from "../hub-module.ts";
import type { PluginCaller } from "../plugins/plugin-caller.ts";
import type { RedisFactory } from "../redis/redis-factory.ts";
import type { SchemaRegistry } from "../schemas/schema-registry.ts";
import type { DecisionFactsOptions } from "./decision-facts.ts";
import { assertTimeZone, createClock, type FactContext } from "./facts.ts";
import { createPluginRecordFetcher } from "./plugin-records.ts";
import { createRecentEvents } from "./recent-events.ts";
import { createRouter, type Router } from "./router.ts";
import { createRulesetChecker } from "./ruleset-checker.ts";
import { BUILT_IN_VERSION, createRulesetStore } from "./ruleset-store.ts";
import { createRulesetSync } from "./ruleset-sync.ts";
import { createRoutingEnricher } from "./routing-enricher.ts";
import { createRoutingMetrics } from "./routing-metrics.ts";
import { readSeedFile, RoutingService } from "./routing-service.ts";
import { routingRoutes } from "./routes.ts";
import { waitAtMost } from "./wait-at-most.ts";

export interface RoutingModuleOptions {
  config: HubConfig;
  logger: Logger;
  redis: RedisFactory;
  schemas: SchemaRegistry;
  registry: Registry;
  auth: Auth;
  /** The plugin host; without it plugin-backed facts are unavailable (decisions say degraded). */
  plugins?: PluginCaller;
  /** The live context of a session, for the `session*` facts (src/sessions through src/app.ts). */
  sessionOf?: (sessionId: string) => Record<string, unknown> | undefined;
  /** A ruleset file made current while Redis holds none and KEFU_ROUTING_RULES is unset (the demo's example). */
  exampleRules?: string;
}

export interface RoutingModule {
  module: HubModule;
  /** For the ingestion service's `enrichers`. */
  enricher: EventEnricher;
  router: Router;
  service: RoutingService;
}

/** How long the start (and an event arriving before the first load) waits for Redis's ruleset. */
const START_WAIT_MS = 2000;

/** Builds routing and brings it to Redis's current ruleset (and KEFU_ROUTING_RULES) before returning. */
export async function createRoutingModule({ config, logger: parent, redis, schemas, registry, auth, plugins, sessionOf, exampleRules }: RoutingModuleOptions): Promise<RoutingModule> {
  const logger = parent.child({ module: "routing" });
  assertTimeZone(config.timezone);
  const clock: FactContext = { ...createClock(config.timezone), ...(sessionOf ? { session: sessionOf } : {}) };
  const checker = createRulesetChecker(schemas);
  const fetcher = createPluginRecordFetcher({ ...(plugins ? { caller: plugins } : {}), cacheTtlSeconds: config.routingFactCacheTtlSeconds });
  const initial = { version: 0, compiled: checker.compileOrThrow(BUILT_IN_VERSION.ruleset).compiled };
  const onFactUnavailable = factLogger(logger);
  const router = createRouter({ initial, clock, fetcher, factTimeoutMs: config.routingFactTimeoutMs, onFactUnavailable });
  const metrics = createRoutingMetrics(registry);
  // No offline queue: while Redis is away, routing's commands fail fast (and are retried by the
  // loader) rather than queue up behind a connection that the hub may need to close.
  const connection = redis.create("routing", { enableOfflineQueue: false });
  const subscriber = redis.create("routing-subscriber", { enableOfflineQueue: false });
  const store = createRulesetStore(connection, config.redisPrefix);
  const recent = createRecentEvents(connection, config.redisPrefix, config.routingRecentEvents);
  const sync = createRulesetSync({
    store,
    router,
    subscriber,
    compile: (document) => checker.compileOrThrow(document).compiled,
    reconcileSeconds: config.routingReconcileSeconds,
    logger,
    onSwap: (version) => {
      metrics.version.set(version);
      metrics.reloads.inc();
    },
  });
  // An invalid seed file stops the start now; applying it needs Redis and happens in start().
  const seed = config.routingRules
    ? await readSeedFile(checker, config.routingRules)
    : exampleRules
      ? { ...(await readSeedFile(checker, exampleRules)), when: "unset" as const }
      : undefined;
  const service = new RoutingService({
    store,
    router,
    checker,
    sync,
    recent,
    clock,
    fetcher,
    factTimeoutMs: config.routingFactTimeoutMs,
    onFactUnavailable,
    logger,
    connections: [connection, subscriber],
    ...(seed ? { seed } : {}),
  });
  const loaded = service.start();
  // Usually Redis answers at once and the hub starts with the current ruleset; if not, it starts
  // anyway (readiness says why) and the ruleset arrives when Redis does.
  await waitAtMost(loaded, START_WAIT_MS);
  const validation = createValidation(schemas);
  return {
    module: {
      name: "routing",
      router: routingRoutes({ auth, validation, service }),
      readiness: () => (service.loaded ? "ok" : "the routing ruleset is not loaded from Redis yet"),
      close: () => service.close(),
    },
    enricher: createRoutingEnricher({ router, metrics, recent, logger, whenLoaded: { isLoaded: () => service.loaded, promise: loaded, waitMs: START_WAIT_MS } }),
    router,
    service,
  };
}

/**
 * Each plugin record a decision could not fetch. A HubError (timeout, plugin failure, no plugin,
 * plugin_ambiguous) is expected while a plugin or its setup is unwell, and is already visible per
 * plugin (GET /v1/plugins, its metrics, the host's warnings) and per decision (`degraded`, the
 * dry-run trace): debug, so that a bad hour does not write a line per event. Anything else is a bug.
 */
function factLogger(logger: Logger): NonNullable<DecisionFactsOptions["onUnavailable"]> {
  return (record, reason, error) => {
    if (error === undefined || isHubError(error)) logger.debug({ record, code: reason.code, reason: reason.detail }, "routing fact unavailable; rule fallbacks apply");
    else logger.error({ record, err: error }, "routing fact lookup failed unexpectedly; rule fallbacks apply");
  };
}
