import type { IncomingMessage, RequestListener } from "node:http";
import type { Duplex } from "node:stream";
import type { Express } from "express";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { HubConfig } from "./config/config.ts";
import { contextSettingsFrom } from "./connectors/context-settings.ts";
import { createOrderContextModule } from "./connectors/order-context-module.ts";
import { createAuth } from "./http/auth.ts";
import { isHubError } from "./http/errors.ts";
import { createHttpApp } from "./http/create-http-app.ts";
import { createValidation } from "./http/validate.ts";
import { bundleOpenApi } from "./http/openapi-document.ts";
import { whoamiRoutes } from "./http/whoami-routes.ts";
import { isReadyState, type HubModule } from "./hub-module.ts";
import type { ReadinessReport } from "./observability/health-routes.ts";
import { createBreakerStateMetric } from "./observability/breaker-state-metric.ts";
import { createMetrics, type HubMetrics } from "./observability/metrics.ts";
import { createReadinessMetric } from "./observability/readiness-metric.ts";
import { createRedisPolicyMetric } from "./observability/redis-policy-metric.ts";
import type { HubPaths } from "./paths.ts";
import type { PluginHost } from "./plugins/plugin-host.ts";
import { pluginModule, startPluginHost } from "./plugins/plugin-module.ts";
import type { RedisFactory } from "./redis/redis-factory.ts";
import { createRoutingModule } from "./routing/routing-module.ts";
import { createDeliveryModule, type DeliveryModule } from "./delivery/delivery-module.ts";
import { createEventsModule, type EventsModule } from "./events/events-module.ts";
import type { AcceptedEvent, EventEnricher, EventObserver } from "./events/hub-event.ts";
import type { FaultHook } from "./fault-points.ts";
import type { SchemaRegistry } from "./schemas/schema-registry.ts";
import { createSessionsModule, type SessionsModule } from "./sessions/sessions-module.ts";
import { createLiveModule, type LiveModule } from "./live/live-module.ts";
import { demoPages } from "./live/demo-pages.ts";
import { DEMO_CARRIER, DEMO_CARRIER_SOURCE, demoCarrierHint } from "./inbound/demo-source.ts";
import { createInboundModule } from "./inbound/inbound-module.ts";
import { RAW_BODY_PREFIX } from "./inbound/routes.ts";
import type { TransformOutput } from "./inbound/transform-output.ts";
import { createAdminModule } from "./admin/admin-module.ts";
import { QUEUES_PATH, queuesBoard } from "./admin/queues-board.ts";
import { GODMODE_PATH, godmodePages } from "./admin/godmode-routes.ts";
import { createMemoryFeed } from "./observability/memory-feed.ts";

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
  /**
   * A routing ruleset file made current while Redis holds none (and KEFU_ROUTING_RULES is unset):
   * `kefu-hub start` passes the worked example when it runs the demo. @defaultValue none
   */
  exampleRules?: string;
}

export interface Hub {
  /** The express app (its route table is the API's); serve {@link Hub.listener}, which has the fast routes too. */
  app: Express;
  /** The HTTP server's request listener. */
  listener: RequestListener;
  metrics: HubMetrics;
  /** The plugin host; the rest of the hub sees it as a PluginCaller. */
  plugins: PluginHost;
  /** The HTTP server's `upgrade` handler: the live gateway's WebSocket at /v1/live. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** `npm start` with the demo business system: demo sessions and their behaviour (KEFU_DEMO_BEHAVIOR). */
  startDemoBehavior(): void;
  /**
   * `npm start` with the demo business system: the `demo-carrier` inbound source, unless one of
   * that name exists or its plugin is not loaded. Answers the hint to log, or undefined.
   */
  startDemoInbound(baseUrl: string): Promise<string | undefined>;
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
  { config, logger, schemas, redis, paths, env = process.env, faults, exampleRules }: HubDependencies,
  opened: <T extends HubModule>(module: T) => T,
): Promise<Hub> {
  const metrics = createMetrics();
  // One `kefu_breaker_state` for the plugin-method and the webhook-origin breakers (one name, one gauge).
  const breakerMetric = createBreakerStateMetric(metrics.registry);
  const auth = createAuth(config.apiKeys);
  const validation = createValidation(schemas);
  const redisMain = redis.create("main");
  // For the "Redis may evict" alert (docker/prometheus/alerts.yml): read at start and every minute.
  const redisPolicy: HubModule = opened({ name: "redis-policy", ...createRedisPolicyMetric(metrics.registry, redisMain) });
  const plugins = await startPluginHost({ config, logger, schemas, registry: metrics.registry, redisUrl: redis.url, env });
  const pluginsModule = opened(pluginModule({ host: plugins, auth, validation, breakerStates: (plugin) => context.breakerStates(plugin) }));

  // Sessions are created later (they take the order context); routing reads them once they exist.
  const lateSessions: { module?: SessionsModule } = {};
  const routing = await createRoutingModule({
    config, logger, redis, schemas, registry: metrics.registry, auth, plugins, ...(exampleRules ? { exampleRules } : {}),
    sessionOf: (sessionId) => lateSessions.module?.contextOf(sessionId),
  });
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
    transforms: {
      run: (plugin, input) => plugins.invoke<Record<string, unknown>>(plugin, "outbound", input),
      kindOf: (plugin) => {
        const found = plugins.list().find((p) => p.name === plugin);
        return found ? found.kind : undefined;
      },
    },
  }));
  // Live takes events' ingest, and events hand accepted events to live: bound once live exists.
  const lateLive: { module?: LiveModule } = {};
  // Besides delivery, what each accepted event is handed to (idempotent, repeated by recovery).
  // `sessionRead` is what the accept script read for the sessions (`readFor`), when it did.
  const alongside = async (accepted: readonly AcceptedEvent[], sessionRead?: readonly (string | null)[]): Promise<void> => {
    await Promise.all([lateSessions.module?.lifecycle.onAccepted(accepted, sessionRead), lateLive.module?.onAccepted(accepted)]);
  };
  const sessions = (lateSessions.module = opened(await createSessionsModule({
    config, logger, schemas, redis, registry: metrics.registry, auth, validation, ...withFaults,
    profileOf: (customerId) =>
      context.service.getCustomer(customerId).then(
        ({ customer }) => ({ ...customer }),
        (error: unknown) => {
          if (isHubError(error) && error.code === "not_found") return null;
          throw error;
        },
      ),
  })));
  const events = (late.events = opened(createEventsModule({
    config, logger, schemas, redis, registry: metrics.registry, auth, validation, enrichers, observers, ...withFaults,
    // Delivery, sessions and live take each accepted event; all are idempotent, so recovery may repeat them.
    deliver: async (accepted, options) => {
      await Promise.all([delivery.deliver(accepted, options), alongside(accepted)]);
    },
    // A planned hand-off replaces `deliver` for a new event: sessions and live take it there too;
    // the session a chat event needs is read by the accept script, in the same round trip.
    plan: async (accepted) => {
      const planned = await delivery.plan(accepted);
      const sessionRead = lateSessions.module?.lifecycle.readFor(accepted);
      return {
        ...planned,
        ...(sessionRead ? { reads: [sessionRead] } : {}),
        handOff: (values) => Promise.all([planned.handOff(), alongside([accepted], sessionRead ? values?.[0] : undefined)]),
      };
    },
    deliveriesOf: (eventId, limit, cursor) => delivery.deliveriesOf(eventId, limit, cursor),
  })));
  const live = (lateLive.module = opened(await createLiveModule({
    config, logger, schemas, redis, auth, validation, sessions: sessions.mirror, registry: metrics.registry,
    ingest: (event) => events.ingest.ingest(event),
  })));

  // Inbound webhooks become events and behaviour through the same ports as POST /v1/events and
  // POST /v1/behavior-events; transforms run in the plugin sandbox.
  const inbound = opened(await createInboundModule({
    config, logger, schemas, redis, auth, validation, ...withFaults,
    transform: (plugin, input) => plugins.invoke<TransformOutput>(plugin, "inbound", input),
    ingestMany: (batch) => events.ingest.ingestMany(batch),
    behavior: (source, items) => sessions.intake.submit(source, items),
  }));
  // /godmode's map: each module's memoryReport port, and the plugin runner's own report.
  const feed = createMemoryFeed({
    stores: () => modules.map((module) => ({ module: module.name, report: () => module.memoryReport?.() ?? [] })),
    plugins: () => plugins.memoryReport(),
  });
  const godmode = godmodePages({ feed, clientsDir: paths.clients });
  // Browser sign-in for admins and the pages behind it (docs/operations.md).
  const admin = createAdminModule({
    auth,
    redis: redis.create("admin", { commandTimeout: config.ingestTimeoutMs }),
    redisPrefix: config.redisPrefix,
    sessionTtlSeconds: config.adminSessionTtlSeconds,
    clientsDir: paths.clients,
    // Every BullMQ queue the hub runs: delivery's is the only one (routing, sessions and live use none).
    pages: [
      { prefix: QUEUES_PATH, router: queuesBoard(delivery.queues) },
      { prefix: GODMODE_PATH, router: godmode.router, close: godmode.close },
    ],
  });

  const modules: HubModule[] = [
    // Closed last, just before Redis: it only stops a timer.
    redisPolicy,
    { name: "whoami", router: whoamiRoutes(auth) },
    admin,
    routing.module,
    pluginsModule,
    context,
    sessions,
    live,
    // The demo console at /demo/agent and /demo/visitor (static files; clients/demo/).
    { name: "demo-pages", router: demoPages(paths.clients) },
    // Closed in reverse: events first (no new hand-offs), then delivery's workers.
    delivery,
    events,
    // Closed first: its recovery hands events to the modules above.
    inbound,
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
  // For the "readiness failing" alert: Prometheus scrapes /metrics, not /readyz.
  createReadinessMetric(metrics.registry, readiness);

  let draining = false;
  const { app, listener } = createHttpApp({
    logger,
    metrics,
    openapi: bundleOpenApi({ rootFile: paths.openapi, schemasDir: paths.schemas, schemas }),
    bodyLimit: config.bodyLimit,
    rawBodyPrefixes: [RAW_BODY_PREFIX],
    routers: modules.flatMap((module) => (module.router ? [module.router] : [])),
    fastRoutes: modules.flatMap((module) => module.fastRoutes ?? []),
    fastWrites: modules.flatMap((module) => module.fastWrites ?? []),
    formPaths: admin.formPaths,
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

  const startDraining = (): void => {
    draining = true;
    // An open /godmode tab's stream would hold the HTTP server's graceful close for its whole grace period.
    godmode.close();
    // Upgraded sockets would hold the HTTP server's graceful close for its whole grace period.
    live.drain().catch((error: unknown) => logger.warn({ err: error }, "could not drain the live connections"));
  };
  const startDemoBehavior = (): void => sessions.startDemo((event) => events.ingest.ingest(event));
  const startDemoInbound = async (baseUrl: string): Promise<string | undefined> => {
    if (!plugins.list().some((plugin) => plugin.name === DEMO_CARRIER && plugin.state === "ready")) return undefined;
    await inbound.ensureSource(DEMO_CARRIER, DEMO_CARRIER_SOURCE);
    return demoCarrierHint(baseUrl);
  };
  return { app, listener, metrics, plugins, startDemoBehavior, startDemoInbound, upgrade: (req, socket, head) => live.upgrade(req, socket, head), startDraining, close };
}

function notReady(feature: string): never {
  throw new Error(`the ${feature} module is not created yet`);
}

async function pingRedis(redis: Redis): Promise<string> {
  if (redis.status !== "ready") return `redis is ${redis.status}`;
  const timeout = new Promise<string>((resolve) => setTimeout(() => resolve("redis did not answer PING within 1s"), 1000).unref());
  return Promise.race([redis.ping().then(() => "ok", (error: Error) => error.message), timeout]);
}
