import { Queue, type Worker } from "bullmq";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { HubConfig } from "../config/config.ts";
import { eventKeys } from "../events/event-keys.ts";
import { createEventStore } from "../events/event-store.ts";
import type { EventEnricher, EventObserver } from "../events/hub-event.ts";
import { createIngestService, type IngestService } from "../events/ingest-service.ts";
import { createOutboxConsumer, type OutboxConsumer } from "../events/outbox-consumer.ts";
import type { BreakerStateMetric } from "../observability/breaker-state-metric.ts";
import type { RedisFactory } from "../redis/redis-factory.ts";
import type { SchemaRegistry } from "../schemas/schema-registry.ts";
import { createOriginBreakers } from "./breaker-registry.ts";
import { DELIVERY_QUEUE, deliveryKeys, queuePrefix } from "./delivery-keys.ts";
import type { DeliveryJobData } from "./delivery-job.ts";
import { createDeliveryMetrics } from "./delivery-metrics.ts";
import { createDeliveryProcessor } from "./delivery-processor.ts";
import { closeWorker, startDeliveryWorker } from "./delivery-worker.ts";
import { createDeliveryStore, type DeliveryStore } from "./delivery-store.ts";
import { createFailureTracker } from "./failure-tracker.ts";
import { createFanOut } from "./fan-out.ts";
import { createHttpSender } from "./http-sender.ts";
import { sampleQueue } from "./queue-sample.ts";
import { createRetryPolicy } from "./retry-policy.ts";
import { createSigner } from "./signer.ts";
import { createSsrfGuard } from "./ssrf-guard.ts";
import { createSubscriptionService, type SubscriptionService } from "./subscription-service.ts";
import { createSubscriptionCache } from "./subscription-cache.ts";
import { createSubscriptionStore } from "./subscription-store.ts";

export interface WebhooksOptions {
  config: HubConfig;
  logger: Logger;
  schemas: SchemaRegistry;
  redis: RedisFactory;
  registry: Registry;
  /** The hub's `kefu_breaker_state`; the per-origin receiver breakers report to it. */
  breakerMetric: BreakerStateMetric;
  /** Run on every newly accepted event, in order, before fan-out (routing adds one). */
  enrichers: readonly EventEnricher[];
  /** Told of every newly accepted event once it is stored (order context adds one). */
  observers: readonly EventObserver[];
}

export interface Webhooks {
  ingest: IngestService;
  subscriptions: SubscriptionService;
  deliveries: DeliveryStore;
  /** Starts fan-out and delivery workers (when `deliveryWorkers`). */
  start(): Promise<void>;
  /** Stops taking work, lets active deliveries finish within `shutdownGraceMs`, closes the queue. Idempotent. */
  close(): Promise<void>;
}

/** Builds ingestion, the outbox fan-out, the delivery queue and its workers from the config. */
export function createWebhooks({ config, logger, schemas, redis, registry, breakerMetric, enrichers, observers }: WebhooksOptions): Webhooks {
  const prefix = config.redisPrefix;
  const dKeys = deliveryKeys(prefix);
  const eKeys = eventKeys(prefix);
  // Auto-pipelining: the many small commands of concurrent deliveries leave in one write per tick.
  const main = redis.create("webhooks", { enableAutoPipelining: true });
  // BullMQ needs maxRetriesPerRequest: null on the connections its worker blocks on.
  const queueConnection = redis.create("delivery-queue", { maxRetriesPerRequest: null });
  const retentionSeconds = config.eventsDedupeSeconds;
  const deadLetterSeconds = Math.ceil(config.deliveryDeadLetterDays * 86_400);

  const queue = new Queue<DeliveryJobData>(DELIVERY_QUEUE, {
    connection: queueConnection,
    prefix: queuePrefix(prefix),
    defaultJobOptions: {
      // Kept a while so that a job id redone after a crash still dedupes; then trimmed (bounded memory).
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: deadLetterSeconds, count: 10_000 },
    },
  });
  const metrics = createDeliveryMetrics(registry, () => sampleQueue(queue));
  const eventStore = createEventStore(main, eKeys, config.eventsDedupeSeconds);
  const ingest = createIngestService({ store: eventStore, schemas, observers, ingested: metrics.eventsIngested, logger });
  const subscriptionStore = createSubscriptionStore(main, dKeys, dKeys.subscriptionChanges);
  const subscriptionCache = createSubscriptionCache({
    store: subscriptionStore,
    subscriber: redis.create("subscription-changes"),
    channel: dKeys.subscriptionChanges,
    logger,
  });
  const deliveries = createDeliveryStore({ redis: main, keys: dKeys, retentionSeconds, deadLetterSeconds });
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
  const fanOut = createFanOut({ redis: main, queue, subscriptions: subscriptionCache, deliveries, eventKeys: eKeys, retry });
  const failures = createFailureTracker({
    redis: main,
    keys: dKeys,
    subscriptions: subscriptionStore,
    disableAfterMs: config.deliveryDisableAfterHours * 3_600_000,
    async onDisabled(subscription, reason, failingSince) {
      logger.warn({ subscriptionId: subscription.id, reason }, "subscription disabled");
      const data: Record<string, unknown> = { subscriptionId: subscription.id, url: subscription.url, reason, disabledAt: new Date().toISOString() };
      if (failingSince) data["failingSince"] = failingSince;
      await ingest.emit({ type: "kefu.subscription.disabled", occurredAt: new Date().toISOString(), priority: "high", data });
    },
  });
  const subscriptions = createSubscriptionService({
    redis: main,
    keys: dKeys,
    store: subscriptionStore,
    deliveries,
    fanOut,
    guard,
    breakers,
    ingest,
    secretOverlapMs: config.deliverySecretOverlapHours * 3_600_000,
  });
  const signer = createSigner();
  const processor = createDeliveryProcessor({ redis: main, keys: dKeys, subscriptions: subscriptionCache, deliveries, sender, signer, breakers, retry, failures, metrics, logger });

  let worker: Worker<DeliveryJobData> | undefined;
  let consumer: OutboxConsumer | undefined;

  let closing: Promise<void> | undefined;
  return {
    ingest,
    subscriptions,
    deliveries,
    async start() {
      if (!config.deliveryWorkers) return;
      // Not awaited: an unreachable Redis must not hold the start; until subscribed, reads go to Redis.
      subscriptionCache.start().catch((error: unknown) => logger.error({ err: error }, "subscription change feed failed"));
      consumer = createOutboxConsumer({
        blocking: redis.create("events-outbox", { maxRetriesPerRequest: null }),
        redis: main,
        keys: eKeys,
        store: eventStore,
        enrichers,
        fanOut: (events) => fanOut.run(events),
        claimMs: config.eventsOutboxClaimMs,
        logger,
      });
      await consumer.start();
      worker = startDeliveryWorker({ connection: queueConnection, prefix, config, processor, retry, deliveries, logger });
    },
    close: () =>
      (closing ??= (async () => {
        const steps: [string, () => Promise<unknown> | void][] = [
          ["outbox consumer", () => consumer?.close()],
          // Without Redis nothing can finish and a graceful close would wait for it forever.
          ["delivery worker", () => closeWorker(worker, queueConnection.status === "ready" ? config.shutdownGraceMs : 0)],
          ["delivery queue", () => queue.close()],
          ["http sender", () => sender.close()],
          ["breakers", () => breakers.close()],
        ];
        for (const [name, step] of steps) {
          try {
            // Bounded: with Redis gone, BullMQ's close can wait for a connection forever.
            await withTimeout(Promise.resolve(step()), config.shutdownGraceMs + 2000, name);
          } catch (error) {
            logger.error({ err: error, step: name }, "webhooks failed to close a part");
          }
        }
      })()),
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not close within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
