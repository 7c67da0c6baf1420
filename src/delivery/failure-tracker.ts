import type { Redis } from "ioredis";
import { execPipeline } from "../redis/exec-pipeline.ts";
import type { DeliveryKeys } from "./delivery-keys.ts";
import type { Subscription } from "./subscription.ts";
import type { SubscriptionStore } from "./subscription-store.ts";

export interface FailureTracker {
  /** After a 2xx: the subscription is healthy again. */
  succeeded(subscriptionId: string): Promise<void>;
  /** After a failure: disables the subscription when it has failed without a success for too long. */
  failed(subscriptionId: string): Promise<void>;
  /** Disables now (410 Gone). */
  disable(subscriptionId: string, reason: "gone" | "failing", failingSince?: string): Promise<void>;
}

export interface FailureTrackerOptions {
  redis: Redis;
  keys: DeliveryKeys;
  subscriptions: SubscriptionStore;
  disableAfterMs: number;
  /** Emits `kefu.subscription.disabled`. */
  onDisabled: (subscription: Subscription, reason: "gone" | "failing", failingSince?: string) => Promise<void>;
  /**
   * After a success, the failing mark is cleared at most this often per subscription, unless this
   * process saw a failure since: a round trip per delivery saved, against a window of hours.
   * @defaultValue 1000
   */
  clearEveryMs?: number;
  /** @defaultValue Date.now */
  now?: () => number;
}

/** svix's rule: an endpoint failing continuously for a window (no success in between) is disabled. */
export function createFailureTracker(options: FailureTrackerOptions): FailureTracker {
  const { redis, keys, subscriptions, disableAfterMs, onDisabled, clearEveryMs = 1000, now = Date.now } = options;
  // Per subscription: when this process last cleared its mark (0 after a failure seen here).
  // Bounded by the number of subscriptions.
  const clearedAt = new Map<string, number>();
  const disable = async (subscriptionId: string, reason: "gone" | "failing", failingSince?: string): Promise<void> => {
    let changed = false;
    const updated = await subscriptions.update(subscriptionId, (current) => {
      changed = current.enabled;
      return changed ? { ...current, enabled: false, disabledReason: reason, updatedAt: new Date().toISOString() } : current;
    });
    await redis.del(keys.failingSince(subscriptionId));
    if (updated && changed) await onDisabled(updated, reason, failingSince);
  };
  return {
    async succeeded(subscriptionId) {
      const at = now();
      if (at - (clearedAt.get(subscriptionId) ?? 0) < clearEveryMs) return;
      clearedAt.set(subscriptionId, at);
      await redis.del(keys.failingSince(subscriptionId));
    },
    async failed(subscriptionId) {
      clearedAt.set(subscriptionId, 0);
      const failedAt = new Date(now()).toISOString();
      const [, since] = (await execPipeline(redis.pipeline().set(keys.failingSince(subscriptionId), failedAt, "NX").get(keys.failingSince(subscriptionId)))) as [unknown, string | null];
      const failingSince = since ?? failedAt;
      if (now() - Date.parse(failingSince) >= disableAfterMs) await disable(subscriptionId, "failing", failingSince);
    },
    disable,
  };
}
