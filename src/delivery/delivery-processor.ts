import { DelayedError, UnrecoverableError, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { FaultHook } from "../fault-points.ts";
import type { BreakerRegistry } from "./breaker-registry.ts";
import type { DeliveryKeys } from "./delivery-keys.ts";
import { webhookBody, type DeliveryJobData } from "./delivery-job.ts";
import type { DeliveryMetrics } from "./delivery-metrics.ts";
import type { ConversationOrder } from "./conversation-order.ts";
import type { Attempt, DeliveryStore } from "./delivery-store.ts";
import type { FailureTracker } from "./failure-tracker.ts";
import type { HttpSender, WebhookResponse } from "./http-sender.ts";
import { rateLimitDelay } from "./rate-limiter.ts";
import type { RetryPolicy } from "./retry-policy.ts";
import type { Signer } from "./signer.ts";
import { signingSecrets, type Subscription } from "./subscription.ts";
import type { SubscriptionReader } from "./subscription-cache.ts";

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
  /** Moves an ordered conversation on once a delivery of it is final. */
  order: ConversationOrder;
  logger: Logger;
  faults?: FaultHook;
}

export type DeliveryProcessor = (job: Job<DeliveryJobData>, token?: string) => Promise<void>;

/** One attempt of one delivery: sign, POST, record, and decide between done, retry and dead letter. */
export function createDeliveryProcessor(deps: ProcessorDependencies): DeliveryProcessor {
  const { redis, keys, subscriptions, deliveries, sender, signer, breakers, retry, failures, metrics, order, faults } = deps;

  const postpone = async (job: Job<DeliveryJobData>, token: string | undefined, untilMs: number, outcome: string): Promise<never> => {
    metrics.deliveries.inc({ outcome });
    await job.moveToDelayed(untilMs, token);
    throw new DelayedError();
  };

  return async (job, token) => {
    const { deliveryId, subscriptionId, event } = job.data;
    const ref = { id: deliveryId, subscriptionId };
    const subscription = await subscriptions.get(subscriptionId);
    if (!subscription) {
      metrics.deliveries.inc({ outcome: "skipped" });
      await deliveries.markSkipped(deliveryId, "the subscription was deleted");
      await order.advance(job.data);
      return;
    }
    if (!subscription.enabled) {
      metrics.deliveries.inc({ outcome: "dead_letter" });
      await deliveries.markFailed(ref, "the subscription is disabled", event);
      await order.advance(job.data);
      return;
    }
    if (subscription.rateLimitPerSecond) {
      const until = await rateLimitDelay(redis, keys, subscriptionId, subscription.rateLimitPerSecond);
      if (until !== undefined) await postpone(job, token, until, "delayed_rate_limit");
    }
    const url = new URL(subscription.url);
    const body = webhookBody(event);
    const request = { url, headers: headersFor(signer, subscription, event.id, body), body };
    const result = await breakers.run(url.origin, () => sender.send(request));
    if (result.kind === "open") return postpone(job, token, result.retryAtMs, "delayed_breaker");
    await faults?.("attempt.sent");
    const response = result.response;
    const attempt = toAttempt(response);

    if (response.ok) {
      metrics.deliveries.inc({ outcome: "delivered" });
      metrics.latency.observe((Date.now() - job.data.acceptedAt) / 1000);
      await Promise.all([deliveries.recordAttempt(ref, attempt, { status: "delivered" }), failures.succeeded(subscriptionId)]);
      await order.advance(job.data);
      return;
    }
    const gone = response.statusCode === 410;
    const final = gone || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (final) {
      metrics.deliveries.inc({ outcome: "dead_letter" });
      await deliveries.recordAttempt(ref, attempt, { status: "failed", event });
      await order.advance(job.data);
    }
    if (gone) await failures.disable(subscriptionId, "gone");
    else await failures.failed(subscriptionId);
    if (final) throw new UnrecoverableError(response.error ?? "failed");

    const failure = response.retryAfterMs === undefined ? undefined : { retryAfterMs: response.retryAfterMs };
    const delayMs = retry.delayMs(job.attemptsMade + 1, failure);
    metrics.deliveries.inc({ outcome: "retry" });
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
