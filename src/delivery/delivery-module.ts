import { Queue } from "bullmq";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { HubConfig } from "../config/config.ts";
import type { FaultHook } from "../fault-points.ts";
import type { HandOff, PlanHandOff } from "../events/hub-event.ts";
import type { Auth } from "../http/auth.ts";
import type { Validation } from "../http/validate.ts";
import type { HubModule } from "../hub-module.ts";
import type { BreakerStateMetric } from "../observability/breaker-state-metric.ts";
import type { RedisFactory } from "../redis/redis-factory.ts";
import { createWriteCoalescer } from "../redis/write-coalescer.ts";
import { createOriginBreakers } from "./breaker-registry.ts";
import { createConversationOrder } from "./conversation-order.ts";
import { DELIVERY_QUEUE, deliveryKeys, queuePrefix } from "./delivery-keys.ts";
import type { DeliveryJobData } from "./delivery-job.ts";
import { createDeliveryMetrics } from "./delivery-metrics.ts";
import { createDeliveryProcessor } from "./delivery-processor.ts";
import { createDeliveryStore } from "./delivery-store.ts";
import { startDeliveryWorker, type DeliveryWorker } from "./delivery-worker.ts";
import { createFailureTracker } from "./failure-tracker.ts";
import { createFanOut } from "./fan-out.ts";
import { createHttpSender } from "./http-sender.ts";
import { createOutboundPayloads, type OutboundTransforms } from "./outbound-payload.ts";
import { createFilterCheck } from "./subscription-filters.ts";
import { sampleQueue } from "./queue-sample.ts";
import { createRetryPolicy } from "./retry-policy.ts";
import { cursorOf, deliveryRoutes } from "./routes.ts";
import { createSigner } from "./signer.ts";
import { createSsrfGuard } from "./ssrf-guard.ts";
import { createSubscriptionCache, type SubscriptionCache } from "./subscription-cache.ts";
import { createSubscriptionService, type EmitEvent, type SubscriptionService } from "./subscription-service.ts";
import { createSubscriptionStore } from "./subscription-store.ts";
import { withTimeout } from "./with-timeout.ts";

/** Allowances for /godmode's map (not counted): an undici Pool, one of its sockets, an origin breaker. */
const POOL_BYTES = 4096;
const SOCKET_BYTES = 32 * 1024;
const BREAKER_BYTES = 4096;

export interface DeliveryModuleOptions {
  config: HubConfig;
  logger: Logger;
  redis: RedisFactory;
  registry: Registry;
  /** The hub's `kefu_breaker_state`; the per-origin receiver breakers report to it. */
  breakerMetric: BreakerStateMetric;
  auth: Auth;
  validation: Validation;
  /** The events feature's `emit`, for `kefu.subscription.disabled` and `kefu.ping`. */
  emit: EmitEvent;
  /** The plugin host, for subscriptions with `transform: {plugin}`. */
  transforms?: OutboundTransforms;
  faults?: FaultHook;
}

export interface DeliveryModule extends HubModule {
  /** The port the events feature hands accepted events to. */
  deliver: HandOff;
  /** The port the events feature plans a new event's hand-off with, before storing it. */
  plan: PlanHandOff;
  subscriptions: SubscriptionService;
  /** The BullMQ queues this module runs (one, `delivery`, with a priority per job), for the admin's queue board. */
  queues: readonly Queue[];
  /** A page of an event's deliveries, for `GET /v1/events/{id}`. */
  deliveriesOf(eventId: string, limit: number, cursor?: string): Promise<{ items: readonly unknown[]; nextCursor?: string }>;
}

/**
 * Subscriptions, delivery records, the BullMQ queue and (when `deliveryWorkers`) its workers.
 * Close stops taking work, lets active deliveries finish within `shutdownGraceMs`, then closes the
 * queue; idempotent.
 */
export async function createDeliveryModule(options: DeliveryModuleOptions): Promise<DeliveryModule> {
  const { config, logger, redis, registry, breakerMetric, auth, validation, emit, transforms, faults } = options;
  const keys = deliveryKeys(config.redisPrefix);
  // Auto-pipelining: the many small commands of concurrent deliveries leave in one write per tick.
  // Bounded waits: during a Redis outage subscription writes answer 503 instead of hanging.
  const main = redis.create("delivery", { enableAutoPipelining: true, commandTimeout: config.ingestTimeoutMs });
  // BullMQ needs maxRetriesPerRequest: null on the connections its worker blocks on.
  const queueConnection = redis.create("delivery-queue", { maxRetriesPerRequest: null });
  const retentionSeconds = config.eventsDedupeSeconds;
  const deadLetterSeconds = Math.ceil(config.deliveryDeadLetterDays * 86_400);

  // The adds of concurrent events leave in one socket write per tick, on a connection of their own.
  // Held writes (createWriteCoalescer), not auto-pipelining: ioredis builds a Pipeline per
  // auto-pipelined batch and copies every script BullMQ defined into it (a third of the hub's CPU
  // per delivered event, bench/delivery.ts A/B in docs/benchmarks.md). No command timeout: adds are bounded by `addTimeoutMs` instead.
  const addConnection = redis.create("delivery-add", { maxRetriesPerRequest: null });
  const queue = new Queue<DeliveryJobData>(DELIVERY_QUEUE, {
    connection: addConnection,
    prefix: queuePrefix(config.redisPrefix),
    defaultJobOptions: {
      // Kept a while: recovery queues a delivery again when its record is not final yet, and a job
      // that completes in between must make that a no-op (same job id), not a second POST.
      removeOnComplete: { age: 600, count: 10_000 },
      removeOnFail: { age: deadLetterSeconds, count: 10_000 },
    },
  });
  const metrics = createDeliveryMetrics(registry, () => sampleQueue(queue));
  // The cache is told of this process's own writes at once, not only over pub/sub.
  const cached: { cache?: SubscriptionCache } = {};
  const subscriptionStore = createSubscriptionStore(main, keys, keys.subscriptionChanges, { onWrite: () => cached.cache?.invalidate() });
  const subscriptionCache = cached.cache = createSubscriptionCache({ store: subscriptionStore, subscriber: redis.create("subscription-changes"), channel: keys.subscriptionChanges, logger });
  const deliveries = createDeliveryStore({ redis: main, keys, retentionSeconds, deadLetterSeconds, ...(config.deliveryWorkers ? { completion: queueConnection } : {}) });
  const retry = createRetryPolicy({ schedule: config.deliveryRetrySchedule, retryAfterMaxMs: config.deliveryRetryAfterMaxSeconds * 1000 });
  const guard = createSsrfGuard({ allowCidrs: config.deliveryAllowCidrs });
  const sender = createHttpSender({ guard, timeoutMs: config.deliveryTimeoutMs, maxOrigins: config.deliveryMaxOrigins });
  const breakers = createOriginBreakers({
    settings: {
      resetTimeoutMs: config.deliveryBreakerResetMs,
      errorThresholdPercentage: config.deliveryBreakerErrorPercent,
      volumeThreshold: config.deliveryBreakerVolumeThreshold,
    },
    maxOrigins: config.deliveryMaxOrigins,
    metric: breakerMetric,
  });
  const passes = createFilterCheck((subscription, message) => logger.error({ subscriptionId: subscription.id, problems: message }, "a subscription's stored filter no longer compiles; it matches no event until it is saved again"));
  const fanOut = createFanOut({ queue, holdAddWrites: createWriteCoalescer(addConnection), subscriptions: subscriptionCache, deliveries, keys, retry, passes, addTimeoutMs: config.ingestTimeoutMs, ...(faults ? { faults } : {}) });
  const order = createConversationOrder({ redis: main, keys, deliveries, enqueue: (jobs) => fanOut.enqueue(jobs), graceMs: config.eventsHandoffGraceMs, logger, ...(faults ? { faults } : {}) });
  const failures = createFailureTracker({
    redis: main,
    keys,
    subscriptions: subscriptionStore,
    disableAfterMs: config.deliveryDisableAfterHours * 3_600_000,
    async onDisabled(subscription, reason, failingSince) {
      logger.warn({ subscriptionId: subscription.id, reason }, "subscription disabled");
      const data: Record<string, unknown> = { subscriptionId: subscription.id, url: subscription.url, reason, disabledAt: new Date().toISOString() };
      if (failingSince) data["failingSince"] = failingSince;
      await emit({ type: "kefu.subscription.disabled", occurredAt: new Date().toISOString(), priority: "high", data });
    },
  });
  const subscriptions = createSubscriptionService({
    redis: main,
    keys,
    store: subscriptionStore,
    deliveries,
    fanOut,
    guard,
    breakers,
    emit,
    secretOverlapMs: config.deliverySecretOverlapHours * 3_600_000,
    ...(transforms ? { transforms } : {}),
  });
  const processor = createDeliveryProcessor({
    redis: main, keys, subscriptions: subscriptionCache, deliveries, sender, signer: createSigner(), breakers, retry, failures, metrics, payloads: createOutboundPayloads(transforms), order, logger, ...(faults ? { faults } : {}),
  });

  let worker: DeliveryWorker | undefined;
  if (config.deliveryWorkers) {
    // Not awaited: an unreachable Redis must not hold the start; until subscribed, reads go to Redis.
    subscriptionCache.start().catch((error: unknown) => logger.error({ err: error }, "subscription change feed failed"));
    order.start();
    worker = startDeliveryWorker({ connection: queueConnection, prefix: config.redisPrefix, config, processor, retry, deliveries, order, logger });
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      const steps: [string, () => Promise<unknown> | void][] = [
        ["conversation order", () => order.close()],
        // Without Redis nothing can finish and a graceful close would wait for it forever.
        ["delivery worker", () => worker?.close(queueConnection.status === "ready" ? config.shutdownGraceMs : 0)],
        ["delivery queue", () => queue.close()],
        ["http sender", () => sender.close()],
        ["breakers", () => breakers.close()],
      ];
      for (const [name, step] of steps) {
        try {
          // Bounded: with Redis gone, BullMQ's close can wait for a connection forever.
          await withTimeout(Promise.resolve(step()), config.shutdownGraceMs + 2000, name);
        } catch (error) {
          logger.error({ err: error, step: name }, "delivery failed to close a part");
        }
      }
    })());

  return {
    name: "delivery",
    router: deliveryRoutes({ auth, validation, subscriptions, deliveries }),
    deliver: (events, handOffOptions) => fanOut.run(events, handOffOptions),
    plan: (accepted) => fanOut.plan(accepted),
    subscriptions,
    queues: [queue],
    memoryReport() {
      const { origins, connections } = sender.pools();
      const originBreakers = breakers.list().length;
      return [
        // Allowances: an undici Pool and its sockets' buffers, an opossum breaker's rolling window.
        { store: "receiver pools", entries: origins, bytes: origins * POOL_BYTES + connections * SOCKET_BYTES, estimated: true },
        { store: "receiver breakers", entries: originBreakers, bytes: originBreakers * BREAKER_BYTES, estimated: true },
      ];
    },
    deliveriesOf: (eventId, limit, cursor) => deliveries.pageOf(keys.eventDeliveries(eventId), limit, cursorOf(cursor)),
    close,
  };
}
