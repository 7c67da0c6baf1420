import type { Redis } from "ioredis";
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
}

/** svix's rule: an endpoint failing continuously for a window (no success in between) is disabled. */
export function createFailureTracker({ redis, keys, subscriptions, disableAfterMs, onDisabled }: FailureTrackerOptions): FailureTracker {
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
      await redis.del(keys.failingSince(subscriptionId));
    },
    async failed(subscriptionId) {
      const now = new Date().toISOString();
      const [, since] = ((await redis.pipeline().set(keys.failingSince(subscriptionId), now, "NX").get(keys.failingSince(subscriptionId)).exec()) ?? []) as [unknown, [Error | null, string | null]];
      const failingSince = since[1] ?? now;
      if (Date.now() - Date.parse(failingSince) >= disableAfterMs) await disable(subscriptionId, "failing", failingSince);
    },
    disable,
  };
}
