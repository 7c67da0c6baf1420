import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { EventKeys } from "../events/event-keys.ts";
import { execPipeline } from "../events/exec-pipeline.ts";
import type { StoredEvent } from "../events/event-store.ts";
import { deliveryIdOf } from "./delivery-keys.ts";
import { BACKOFF_TYPE, JOB_PRIORITY, type DeliveryJobData } from "./delivery-job.ts";
import type { DeliveryStore, NewDeliveries } from "./delivery-store.ts";
import type { RetryPolicy } from "./retry-policy.ts";
import { subscribesTo } from "./subscription.ts";
import type { SubscriptionReader } from "./subscription-cache.ts";

export interface FanOut {
  /** One job per (event, matching subscription); safe to run twice for the same events. */
  run(events: readonly StoredEvent[]): Promise<number>;
  /** A job for one delivery again (replay), under a new job id so that a kept old job does not swallow it. */
  requeue(data: DeliveryJobData, jobId: string): Promise<void>;
}

export interface FanOutOptions {
  redis: Redis;
  queue: Queue<DeliveryJobData>;
  subscriptions: SubscriptionReader;
  deliveries: DeliveryStore;
  eventKeys: EventKeys;
  retry: RetryPolicy;
}

export function createFanOut({ redis, queue, subscriptions, deliveries, eventKeys, retry }: FanOutOptions): FanOut {
  const jobOptions = (data: DeliveryJobData, jobId: string) => ({
    jobId,
    priority: JOB_PRIORITY[data.event.priority],
    attempts: retry.attempts,
    backoff: { type: BACKOFF_TYPE },
  });
  return {
    async run(events) {
      const all = await subscriptions.list();
      const pipeline = redis.pipeline();
      const jobs: { name: string; data: DeliveryJobData; opts: ReturnType<typeof jobOptions> }[] = [];
      const created: NewDeliveries[] = [];
      for (const stored of events) {
        const { event } = stored;
        const targets = stored.only ? all.filter((s) => s.id === stored.only) : all.filter((s) => subscribesTo(s, event.type));
        if (targets.length === 0) continue;
        const ofEvent = targets.map((s) => ({ id: deliveryIdOf(event.id, s.id), subscriptionId: s.id }));
        created.push({ eventId: event.id, eventType: event.type, createdAtMs: stored.acceptedAt, indexKey: eventKeys.eventDeliveries(event.id), deliveries: ofEvent });
        for (const d of ofEvent) {
          const data: DeliveryJobData = { deliveryId: d.id, subscriptionId: d.subscriptionId, acceptedAt: stored.acceptedAt, event };
          jobs.push({ name: event.type, data, opts: jobOptions(data, d.id) });
        }
      }
      deliveries.create(pipeline, created);
      // Both at once: a worker that records an attempt before the record's creation lands is fine,
      // since creation never overwrites a status (HSETNX).
      await Promise.all([execPipeline(pipeline), jobs.length > 0 ? queue.addBulk(jobs) : undefined]);
      return jobs.length;
    },
    async requeue(data, jobId) {
      await queue.add(data.event.type, data, jobOptions(data, jobId));
    },
  };
}
