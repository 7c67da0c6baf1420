import { DelayedError, UnrecoverableError, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { FaultHook } from "../fault-points.ts";
import type { EventPriority } from "../events/hub-event.ts";
import type { BreakerRegistry } from "./breaker-registry.ts";
import type { DeliveryKeys } from "./delivery-keys.ts";
import type { DeliveryJobData } from "./delivery-job.ts";
import type { DeliveryMetrics } from "./delivery-metrics.ts";
import type { ConversationOrder } from "./conversation-order.ts";
import type { Attempt, DeliveryStore } from "./delivery-store.ts";
import type { FailureTracker } from "./failure-tracker.ts";
import type { HttpSender, WebhookResponse } from "./http-sender.ts";
import type { OutboundPayloads } from "./outbound-payload.ts";
import { rateLimitDelay } from "./rate-limiter.ts";
import type { RetryPolicy } from "./retry-policy.ts";
import type { Signer } from "./signer.ts";
import { signingSecrets, type Subscription } from "./subscription.ts";
import type { SubscriptionReader } from "./subscription-cache.ts";

/** Characters of a shaped request body kept with its attempt, as the response body is kept. */
const REQUEST_BODY_KEPT = 4096;

/** Thrown for a failed attempt that will be retried; carries the delay the backoff strategy uses. */
export class AttemptFailedError extends Error {
  override name = "AttemptFailedError";
  readonly delayMs: number;
  constructor(message: string, delayMs: number) {
    super(message);
    this.delayMs = delayMs;
  }
}

export interface ProcessorDependencies {
  redis: Redis;
  keys: DeliveryKeys;
  subscriptions: SubscriptionReader;
  deliveries: DeliveryStore;
  sender: HttpSender;
  signer: Signer;
  breakers: BreakerRegistry;
  retry: RetryPolicy;
  failures: FailureTracker;
  metrics: DeliveryMetrics;
  /** The body each subscription is sent (masked where it has a mask). */
  payloads: OutboundPayloads;
  /** Moves an ordered conversation on once a delivery of it is final. */
  order: ConversationOrder;
  logger: Logger;
  faults?: FaultHook;
}

export type DeliveryProcessor = (job: Job<DeliveryJobData>, token?: string) => Promise<void>;

/** One attempt of one delivery: sign, POST, record, and decide between done, retry and dead letter. */
export function createDeliveryProcessor(deps: ProcessorDependencies): DeliveryProcessor {
  const { redis, keys, subscriptions, deliveries, sender, signer, breakers, retry, failures, metrics, payloads, order, logger, faults } = deps;
  // Per outcome and priority, the counter's child, and per priority the histogram's (inc({...})
  // hashes the labels on every call); per subscription object (the cache replaces them on a
  // change), its parsed URL. Priority is a label because dashboards and alerts compare urgent with low.
  const outcomes = new Map<string, { inc(): void }>();
  const count = (outcome: string, priority: EventPriority): void => {
    const key = `${outcome} ${priority}`;
    let child = outcomes.get(key);
    if (!child) outcomes.set(key, (child = metrics.deliveries.labels(outcome, priority)));
    child.inc();
  };
  const latencies = new Map<EventPriority, { observe(seconds: number): void }>();
  const observeLatency = (priority: EventPriority, seconds: number): void => {
    let child = latencies.get(priority);
    if (!child) latencies.set(priority, (child = metrics.latency.labels(priority)));
    child.observe(seconds);
  };
  const urls = new WeakMap<Subscription, URL>();
  const urlOf = (subscription: Subscription): URL => {
    let url = urls.get(subscription);
    if (!url) urls.set(subscription, (url = new URL(subscription.url)));
    return url;
  };

  const postpone = async (job: Job<DeliveryJobData>, token: string | undefined, untilMs: number, outcome: string): Promise<never> => {
    count(outcome, job.data.event.priority);
    await job.moveToDelayed(untilMs, token);
    throw new DelayedError();
  };

  return async (job, token) => {
    const { deliveryId, subscriptionId, event } = job.data;
    const ref = { id: deliveryId, subscriptionId };
    const subscription = await subscriptions.get(subscriptionId);
    if (!subscription) {
      count("skipped", event.priority);
      await deliveries.markSkipped(deliveryId, "the subscription was deleted");
      await order.advance(job.data);
      return;
    }
    if (!subscription.enabled) {
      count("dead_letter", event.priority);
      await deliveries.markFailed(ref, "the subscription is disabled", event);
      await order.advance(job.data);
      return;
    }
    if (subscription.rateLimitPerSecond) {
      const until = await rateLimitDelay(redis, keys, subscriptionId, subscription.rateLimitPerSecond);
      if (until !== undefined) await postpone(job, token, until, "delayed_rate_limit");
    }
    const pending = payloads(subscription, event);
    const outbound = pending instanceof Promise ? await pending : pending;
    if (outbound.kind === "skip") {
      count("skipped", event.priority);
      await deliveries.markSkipped(deliveryId, outbound.reason);
      await order.advance(job.data);
      return;
    }
    let response: WebhookResponse;
    if (outbound.kind === "failed") {
      // The plugin's failure, not the receiver's: no POST, no breaker; retried like an error answer.
      response = { ok: false, error: outbound.error, durationMs: outbound.durationMs, transportFailure: false };
    } else {
      const url = urlOf(subscription);
      const request = { url, headers: headersFor(signer, subscription, event.id, outbound.body), body: outbound.body };
      const result = await breakers.run(url.origin, () => sender.send(request));
      if (result.kind === "open") return postpone(job, token, result.retryAtMs, "delayed_breaker");
      await faults?.("attempt.sent");
      response = result.response;
    }
    const attempt = toAttempt(response);
    // What was sent, when it is not the event as stored: the attempt log shows the masked body.
    if (outbound.kind === "body" && outbound.shaped) attempt.requestBody = outbound.body.slice(0, REQUEST_BODY_KEPT);

    if (response.ok) {
      count("delivered", event.priority);
      observeLatency(event.priority, (Date.now() - job.data.acceptedAt) / 1000);
      const recorded = deliveries.recordDelivered(ref, attempt, job.data.acceptedAt);
      if (job.data.conversationQueue === undefined) {
        // Not awaited: the record precedes the job's completion on the worker's socket (see
        // DeliveryStoreOptions.completion). A failed write leaves a delivered record pending.
        recorded.catch((error: unknown) => logger.error({ err: error, deliveryId }, "could not record a delivered attempt; the record still says pending"));
        await failures.succeeded(subscriptionId);
        return;
      }
      // An ordered conversation moves on only once its head is recorded as final.
      await Promise.all([recorded, failures.succeeded(subscriptionId)]);
      await order.advance(job.data);
      return;
    }
    const gone = response.statusCode === 410;
    const final = gone || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (final) {
      count("dead_letter", event.priority);
      await deliveries.recordAttempt(ref, attempt, { status: "failed", event });
      await order.advance(job.data);
    }
    if (gone) await failures.disable(subscriptionId, "gone");
    else await failures.failed(subscriptionId);
    if (final) throw new UnrecoverableError(response.error ?? "failed");

    const failure = response.retryAfterMs === undefined ? undefined : { retryAfterMs: response.retryAfterMs };
    const delayMs = retry.delayMs(job.attemptsMade + 1, failure);
    count("retry", event.priority);
    await deliveries.recordAttempt(ref, attempt, { status: "retrying", nextAttemptAt: Date.now() + delayMs });
    throw new AttemptFailedError(response.error ?? "failed", delayMs);
  };
}

function headersFor(signer: Signer, subscription: Subscription, eventId: string, body: string): Record<string, string> {
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    ...subscription.headers,
    "content-type": "application/json",
    "user-agent": "kefu-hub-webhooks/1",
    "webhook-id": eventId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signer.sign(signingSecrets(subscription), eventId, timestamp, body),
  };
}

function toAttempt(response: WebhookResponse): Attempt {
  const attempt: Attempt = { at: new Date().toISOString(), durationMs: response.durationMs };
  if (response.statusCode !== undefined) attempt.statusCode = response.statusCode;
  if (response.error) attempt.error = response.error;
  if (response.body) attempt.responseBody = response.body;
  return attempt;
}
