import type { Queue } from "bullmq";
import type { FaultHook } from "../fault-points.ts";
import type { AcceptedEvent, PlannedHandOff } from "../events/hub-event.ts";
import { RedisUnavailableError } from "../redis/redis-unavailable.ts";
import { createSharedWait } from "../resilience/shared-wait.ts";
import { conversationKeyOf, queueEntryOf } from "./conversation-order.ts";
import { deliveryIdOf, type DeliveryKeys } from "./delivery-keys.ts";
import { BACKOFF_TYPE, JOB_PRIORITY, type DeliveryJobData } from "./delivery-job.ts";
import { CREATED, type DeliveryStore, type NewDeliveries } from "./delivery-store.ts";
import type { RetryPolicy } from "./retry-policy.ts";
import { subscribesTo, type Subscription } from "./subscription.ts";
import type { SubscriptionReader } from "./subscription-cache.ts";
import type { FilterCheck } from "./subscription-filters.ts";

export interface FanOut {
  /**
   * Creates the deliveries of each event (one per matching subscription) and queues their jobs.
   * Idempotent: run again (`recovering`), it queues only the deliveries that are not final and
   * whose turn it is.
   */
  run(events: readonly AcceptedEvent[], options?: { recovering?: boolean }): Promise<number>;
  /**
   * The hand-off of one new event, planned before it is stored: its delivery records, for the
   * accept script to write with it, and then the queueing of their jobs. An event with an ordered
   * delivery plans no records (its conversation queue decides what is due) and is handed to
   * {@link run} once stored.
   */
  plan(accepted: AcceptedEvent): Promise<PlannedHandOff>;
  /** Queues jobs under their delivery ids (a job that exists is left as it is). */
  enqueue(jobs: readonly DeliveryJobData[]): Promise<void>;
  /** A job for one delivery again (replay), under a new job id so that a kept old job does not swallow it. */
  requeue(data: DeliveryJobData, jobId: string): Promise<void>;
}

export interface FanOutOptions {
  queue: Queue<DeliveryJobData>;
  subscriptions: SubscriptionReader;
  deliveries: DeliveryStore;
  keys: DeliveryKeys;
  retry: RetryPolicy;
  /** Whether an event passes a subscription's `filter`: one that does not gets no record and no job. */
  passes: FilterCheck;
  /** Holds the queue connection's writes until the end of the turn, so that a turn's adds leave in one write. */
  holdAddWrites: () => void;
  /** BullMQ's connection has no command timeout (its worker blocks on it): adds wait at most this long. */
  addTimeoutMs: number;
  faults?: FaultHook;
}

interface PlannedDelivery {
  data: DeliveryJobData;
  queueEntry?: string;
}

export function createFanOut({ queue, holdAddWrites, subscriptions, deliveries, keys, retry, passes, addTimeoutMs, faults }: FanOutOptions): FanOut {
  const jobOptions = (data: DeliveryJobData, jobId: string) => ({
    jobId,
    priority: JOB_PRIORITY[data.event.priority],
    attempts: retry.attempts,
    backoff: { type: BACKOFF_TYPE },
  });
  // One timer for every add's bound, not one per add.
  const addWait = createSharedWait(addTimeoutMs);
  const waitForRedis = <T>(adding: Promise<T>, what: string): Promise<T> =>
    addWait.within(adding, () => {
      throw new RedisUnavailableError(`${what}: Redis did not answer within ${addTimeoutMs} ms`);
    });
  const enqueue = async (jobs: readonly DeliveryJobData[]): Promise<void> => {
    const [only, ...more] = jobs;
    if (!only) return;
    holdAddWrites();
    // One add is one script call; addBulk wraps its adds in MULTI/EXEC.
    const adding: Promise<unknown> =
      more.length === 0
        ? queue.add(only.event.type, only, jobOptions(only, only.deliveryId))
        : queue.addBulk(jobs.map((data) => ({ name: data.event.type, data, opts: jobOptions(data, data.deliveryId) })));
    await waitForRedis(adding, "queueing deliveries");
  };

  const plan = (accepted: AcceptedEvent, all: readonly Subscription[]): PlannedDelivery[] => {
    const { event, acceptedAt, only } = accepted;
    // `only` (a test ping, a replay to one subscription) is not filtered: it was asked for.
    const targets = only ? all.filter((s) => s.id === only) : all.filter((s) => subscribesTo(s, event.type) && passes(s, event));
    return targets.map((subscription) => {
      const data: DeliveryJobData = { deliveryId: deliveryIdOf(event.id, subscription.id), subscriptionId: subscription.id, acceptedAt, event };
      const conversation = subscription.ordering === "conversation" ? conversationKeyOf(event) : undefined;
      if (conversation === undefined) return { data };
      data.conversationQueue = keys.conversationQueue(subscription.id, conversation);
      return { data, queueEntry: queueEntryOf(data) };
    });
  };
  const recordsOf = ({ event, acceptedAt }: AcceptedEvent, planned: readonly PlannedDelivery[]): NewDeliveries => ({
    eventId: event.id,
    eventType: event.type,
    createdAtMs: acceptedAt,
    deliveries: planned.map(({ data, queueEntry }) => ({
      id: data.deliveryId,
      subscriptionId: data.subscriptionId,
      ...(data.conversationQueue && queueEntry ? { queueKey: data.conversationQueue, queueEntry } : {}),
    })),
  });

  const run: FanOut["run"] = async (events, { recovering = false } = {}) => {
    const all = await subscriptions.list();
    const plans = events.map((accepted) => ({ accepted, planned: plan(accepted, all) })).filter(({ planned }) => planned.length > 0);
    const planned = plans.flatMap((p) => p.planned);
    if (planned.length === 0) return 0;
    // First hand-off, nothing ordered: every job is due, so records and jobs go out together
    // (a crash between them is recovered from the event's hand-off mark).
    if (!recovering && planned.every((p) => p.queueEntry === undefined)) {
      await Promise.all([...plans.map((p) => deliveries.create(recordsOf(p.accepted, p.planned))), enqueue(planned.map((p) => p.data))]);
      return planned.length;
    }
    const answers = await Promise.all(plans.map((p) => deliveries.create(recordsOf(p.accepted, p.planned))));
    await faults?.("delivery.recorded");
    const due = plans.flatMap((p, i) => p.planned.filter((_, j) => answers[i]?.[j] === CREATED.queueNow).map((d) => d.data));
    await enqueue(due);
    return due.length;
  };

  return {
    run,
    async plan(accepted) {
      const planned = plan(accepted, await subscriptions.list());
      if (planned.length === 0) return { handOff: () => Promise.resolve(0) };
      if (planned.some((p) => p.queueEntry !== undefined)) return { handOff: () => run([accepted]) };
      return { records: deliveries.companionRecords(recordsOf(accepted, planned)), handOff: () => enqueue(planned.map((p) => p.data)) };
    },
    enqueue,
    async requeue(data, jobId) {
      holdAddWrites();
      await waitForRedis(queue.add(data.event.type, data, jobOptions(data, jobId)), "queueing a replay");
    },
  };
}
