import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { HubConfig } from "../config/config.ts";
import { DELIVERY_QUEUE, queuePrefix } from "./delivery-keys.ts";
import type { DeliveryJobData } from "./delivery-job.ts";
import type { ConversationOrder } from "./conversation-order.ts";
import type { DeliveryProcessor } from "./delivery-processor.ts";
import type { DeliveryStore } from "./delivery-store.ts";
import type { RetryPolicy } from "./retry-policy.ts";

export interface DeliveryWorkerOptions {
  /** With `maxRetriesPerRequest: null`, as BullMQ workers need. */
  connection: Redis;
  prefix: string;
  config: HubConfig;
  processor: DeliveryProcessor;
  retry: RetryPolicy;
  deliveries: DeliveryStore;
  order: ConversationOrder;
  logger: Logger;
}

/** The BullMQ worker of the delivery queue, with the retry schedule as its custom backoff. */
export function startDeliveryWorker({ connection, prefix, config, processor, retry, deliveries, order, logger }: DeliveryWorkerOptions): Worker<DeliveryJobData> {
  const worker = new Worker<DeliveryJobData>(DELIVERY_QUEUE, processor, {
    connection,
    prefix: queuePrefix(prefix),
    concurrency: config.deliveryConcurrency,
    // A killed worker's jobs are moved back once their lock expired and a stalled check ran (the
    // first runs when a worker starts): within lock + half of it after the kill.
    lockDuration: config.deliveryLockMs,
    stalledInterval: Math.max(250, Math.floor(config.deliveryLockMs / 2)),
    // A delivery whose worker died is retried, not failed: at-least-once.
    maxStalledCount: 100,
    settings: {
      // The processor planned the delay (schedule, jitter or Retry-After) when it threw.
      backoffStrategy: (attemptsMade, _type, error) => {
        const planned = (error as { delayMs?: unknown } | undefined)?.delayMs;
        return typeof planned === "number" ? planned : retry.delayMs(attemptsMade);
      },
    },
  });
  worker.on("failed", (job, error) => {
    // Only a job that bypassed the processor's own bookkeeping (e.g. stalled too often) lands here unrecorded.
    if (!job || error.name === "UnrecoverableError") return;
    if (job.attemptsMade < (job.opts.attempts ?? 1) && !/stalled/i.test(error.message)) return;
    deliveries
      .markFailed({ id: job.data.deliveryId, subscriptionId: job.data.subscriptionId }, error.message, job.data.event)
      .then(() => order.advance(job.data))
      .catch((err: unknown) => logger.error({ err, deliveryId: job.data.deliveryId }, "could not record a dead letter"));
  });
  worker.on("error", (error) => logger.error({ err: error }, "delivery worker error"));
  return worker;
}

/**
 * Lets active deliveries finish within the grace period, then stops without waiting (their jobs
 * are retaken as stalled). `graceMs` 0 (Redis gone) closes at once.
 */
export async function closeWorker(worker: Worker | undefined, graceMs: number): Promise<void> {
  if (!worker) return;
  if (graceMs === 0) {
    await worker.close(true);
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), graceMs);
  });
  const outcome = await Promise.race([worker.close(), grace]);
  clearTimeout(timer);
  if (outcome === "timeout") await worker.close(true);
}
