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

export interface DeliveryWorker {
  readonly worker: Worker<DeliveryJobData>;
  /**
   * Takes no new jobs, lets active deliveries finish within `graceMs`, then stops (what is still
   * active is retaken as stalled by another worker). `graceMs` 0 (Redis gone) stops at once.
   */
  close(graceMs: number): Promise<void>;
}

/** The BullMQ worker of the delivery queue, with the retry schedule as its custom backoff. */
export function startDeliveryWorker({ connection, prefix, config, processor, retry, deliveries, order, logger }: DeliveryWorkerOptions): DeliveryWorker {
  const active = createActiveCount();
  const worker = new Worker<DeliveryJobData>(DELIVERY_QUEUE, active.track(processor), {
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
  return { worker, close: (graceMs) => closeWorker(worker, active, graceMs) };
}

interface ActiveCount {
  track<A extends unknown[], R>(run: (...args: A) => Promise<R>): (...args: A) => Promise<R>;
  /** Resolves when nothing tracked is running. */
  idle(): Promise<void>;
}

function createActiveCount(): ActiveCount {
  let running = 0;
  let waiters: (() => void)[] = [];
  return {
    track: (run) => async (...args) => {
      running += 1;
      try {
        return await run(...args);
      } finally {
        running -= 1;
        if (running === 0) {
          for (const wake of waiters) wake();
          waiters = [];
        }
      }
    },
    idle: () => (running === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
  };
}

// Not BullMQ's graceful close(): it waits for the worker's main loop, which a Redis connection
// that is lost or reconnecting can hold forever, and a later close(true) only returns that same
// pending promise, so the lock-renewal timer would run on (and hold the process) after the hub
// closed. Pausing stops fetching without a round trip; the grace covers only our own deliveries.
async function closeWorker(worker: Worker, active: ActiveCount, graceMs: number): Promise<void> {
  if (graceMs > 0) {
    await worker.pause(true);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([active.idle(), grace]);
    clearTimeout(timer);
    // BullMQ moves a finished job to completed only while its backend is not closing: one turn
    // lets the continuations of the last deliveries send their moves first.
    await new Promise((resolve) => setImmediate(resolve));
  }
  await worker.close(true);
}
