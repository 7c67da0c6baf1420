import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { FaultHook } from "../fault-points.ts";
import type { HubEvent } from "../events/hub-event.ts";
import { createDeferredBatch } from "../redis/deferred-batch.ts";
import { startPeriodicTask, type PeriodicTask } from "../resilience/periodic-task.ts";
import type { DeliveryJobData } from "./delivery-job.ts";
import type { DeliveryKeys } from "./delivery-keys.ts";
import type { DeliveryStore } from "./delivery-store.ts";

/** The conversation an event belongs to: `data.sessionId`, else `data.ticketId`; none without either. */
export function conversationKeyOf(event: HubEvent): string | undefined {
  for (const field of ["sessionId", "ticketId"] as const) {
    const value = event.data[field];
    if (typeof value === "string" && value !== "") return value;
    if (typeof value === "number") return String(value);
  }
  return undefined;
}

/** A conversation queue's entry: the delivery id first, so that Lua can match it without parsing JSON. */
export function queueEntryOf(data: DeliveryJobData): string {
  return `${data.deliveryId}\n${JSON.stringify(data)}`;
}

function jobOfEntry(entry: string): DeliveryJobData {
  return JSON.parse(entry.slice(entry.indexOf("\n") + 1)) as DeliveryJobData;
}

export interface ConversationOrderOptions {
  redis: Redis;
  keys: DeliveryKeys;
  deliveries: DeliveryStore;
  /** Queues jobs (deterministic ids: queueing one twice is a no-op). */
  enqueue: (jobs: readonly DeliveryJobData[]) => Promise<void>;
  /** A due mark older than this belongs to an advance whose process died before queueing. */
  graceMs: number;
  logger: Logger;
  faults?: FaultHook;
}

export interface ConversationOrder {
  /**
   * After an ordered delivery became final (delivered, dead letter, skipped): moves its
   * conversation on and queues the next delivery's job. Never throws: what it could not queue is
   * queued by recovery.
   */
  advance(data: DeliveryJobData): Promise<void>;
  /** Starts queueing the heads that a stopped process left without a job. */
  start(): void;
  close(): Promise<void>;
}

/**
 * Per-conversation ordering for `ordering: "conversation"` subscriptions: a conversation's
 * deliveries wait in a Redis list in accept order and only its head has a job, so one is in flight
 * per conversation while other conversations go on in parallel. BullMQ retries the head; other
 * conversations are not held.
 */
export function createConversationOrder(options: ConversationOrderOptions): ConversationOrder {
  const { redis, keys, deliveries, enqueue, graceMs, logger, faults } = options;
  const dueCleared = createDeferredBatch<string>(
    (members) => redis.zrem(keys.conversationsDue, ...members).then(
      () => undefined,
      (error: unknown) => logger.warn({ err: error }, "could not clear conversation due marks; recovery will queue them again (a no-op)"),
    ),
    50,
  );
  let recovery: PeriodicTask | undefined;

  const recoverOnce = async (): Promise<void> => {
    const members = await redis.zrangebyscore(keys.conversationsDue, "-inf", Date.now() - graceMs, "LIMIT", 0, 200);
    if (members.length === 0) return;
    const parsed = members.map((member) => {
      const at = member.lastIndexOf("\n");
      return { member, queueKey: member.slice(0, at), deliveryId: member.slice(at + 1) };
    });
    const heads = await Promise.all(parsed.map(({ queueKey }) => redis.lindex(queueKey, 0)));
    const jobs = heads.flatMap((head, index) => (head?.startsWith(`${parsed[index]?.deliveryId}\n`) ? [jobOfEntry(head)] : []));
    if (jobs.length > 0) logger.warn({ deliveries: jobs.length }, "queueing ordered deliveries whose turn came while a process stopped");
    await enqueue(jobs);
    await redis.zrem(keys.conversationsDue, ...members);
  };

  return {
    async advance(data) {
      if (!data.conversationQueue) return;
      try {
        const next = await deliveries.advanceConversation(data.conversationQueue, data.deliveryId);
        if (!next) return;
        await faults?.("order.advanced");
        const job = jobOfEntry(next);
        await enqueue([job]);
        dueCleared.add([`${data.conversationQueue}\n${job.deliveryId}`]);
      } catch (error) {
        logger.error({ err: error, deliveryId: data.deliveryId }, "could not queue the next delivery of a conversation; recovery will");
      }
    },
    start() {
      recovery ??= startPeriodicTask(recoverOnce, Math.max(50, graceMs / 2), logger, "conversation order recovery");
    },
    async close() {
      await recovery?.close();
      await dueCleared.flush();
    },
  };
}
