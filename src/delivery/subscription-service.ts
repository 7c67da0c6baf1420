import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { HubError } from "../http/errors.ts";
import type { BreakerState } from "../resilience/breaker-registry.ts";
import type { OriginBreakers } from "./breaker-registry.ts";
import type { DeliveryKeys } from "./delivery-keys.ts";
import type { DeliveryStore } from "./delivery-store.ts";
import type { FanOut } from "./fan-out.ts";
import { generateSecret } from "./signer.ts";
import type { SsrfGuard } from "./ssrf-guard.ts";
import { toView, type Subscription, type SubscriptionView } from "./subscription.ts";
import { newSubscriptionId, type SubscriptionStore } from "./subscription-store.ts";

export interface SubscriptionInput {
  url: string;
  events: string[];
  description?: string;
  enabled?: boolean;
  headers?: Record<string, string>;
  rateLimitPerSecond?: number;
  ordering?: "conversation" | "none";
  secret?: string;
}

export type SubscriptionPatch = Partial<Omit<SubscriptionInput, "secret">> & { rateLimitPerSecond?: number | null };

/** The events feature's `emit` for the hub's own `kefu.*` events; `only` limits fan-out to one subscription. */
export type EmitEvent = (event: { type: string; occurredAt: string; priority: "urgent" | "high" | "normal" | "low"; data: Record<string, unknown> }, only?: string) => Promise<{ id: string }>;

/**
 * A breaker's state as the subscription API has always spelled it (schemas/subscription.schema.json);
 * the hub's own vocabulary, and `kefu_breaker_state`'s, is {@link BreakerState}.
 */
export type SubscriptionBreakerState = "closed" | "open" | "half-open";

/** The API's view of a subscription: stored fields plus live state. */
export type SubscriptionState = SubscriptionView & { breaker: SubscriptionBreakerState; failingSince?: string };

export interface SubscriptionService {
  create(input: SubscriptionInput): Promise<SubscriptionState & { secret: string }>;
  list(): Promise<SubscriptionState[]>;
  get(id: string): Promise<SubscriptionState>;
  update(id: string, patch: SubscriptionPatch): Promise<SubscriptionState>;
  delete(id: string): Promise<void>;
  rotateSecret(id: string, secret?: string): Promise<{ secret: string; previousSecretExpiresAt: string }>;
  /** Sends a `kefu.ping` to this subscription only. */
  test(id: string): Promise<{ eventId: string }>;
  replayDelivery(deliveryId: string): Promise<{ deliveryId: string }>;
  replaySince(subscriptionId: string, since: string): Promise<{ replayed: number }>;
}

export interface SubscriptionServiceOptions {
  redis: Redis;
  keys: DeliveryKeys;
  store: SubscriptionStore;
  deliveries: DeliveryStore;
  fanOut: FanOut;
  guard: SsrfGuard;
  /** Read for the `breaker` field of the view only. */
  breakers: Pick<OriginBreakers, "state">;
  emit: EmitEvent;
  secretOverlapMs: number;
}

export function createSubscriptionService(options: SubscriptionServiceOptions): SubscriptionService {
  const { redis, keys, store, deliveries, fanOut, guard, breakers, emit, secretOverlapMs } = options;

  const checkUrl = async (raw: string): Promise<void> => {
    const url = new URL(raw);
    try {
      await guard.checkUrl(url);
    } catch (error) {
      throw new HubError("unprocessable", `the webhook URL is not allowed: ${(error as Error).message}`, {
        errors: [{ pointer: "/url", message: (error as Error).message }],
      });
    }
  };
  const find = async (id: string): Promise<Subscription> => {
    const found = await store.get(id);
    if (!found) throw new HubError("not_found", `no subscription ${id}`);
    return found;
  };
  const withState = async (subscription: Subscription): Promise<SubscriptionState> => {
    const failingSince = await redis.get(keys.failingSince(subscription.id));
    const state: SubscriptionState = { ...toView(subscription), breaker: apiSpelling(breakers.state(new URL(subscription.url).origin)) };
    if (failingSince) state.failingSince = failingSince;
    return state;
  };
  const replayDelivery = async (deliveryId: string): Promise<{ deliveryId: string }> => {
    const reopened = await deliveries.reopen(deliveryId);
    if (!reopened) {
      const existing = await deliveries.get(deliveryId);
      if (!existing) throw new HubError("not_found", `no delivery ${deliveryId}`);
      throw new HubError("conflict", `delivery ${deliveryId} is ${existing.status}; only failed deliveries (dead letters) can be replayed`);
    }
    const data = { deliveryId, subscriptionId: reopened.subscriptionId, acceptedAt: Date.now(), event: reopened.event };
    await fanOut.requeue(data, `${deliveryId}.replay-${randomBytes(6).toString("hex")}`);
    return { deliveryId };
  };

  return {
    async create(input) {
      await checkUrl(input.url);
      const now = new Date().toISOString();
      const subscription: Subscription = {
        id: newSubscriptionId(),
        url: input.url,
        events: [...new Set(input.events)],
        enabled: input.enabled ?? true,
        headers: lowerCaseNames(input.headers ?? {}),
        secret: input.secret ?? generateSecret(),
        createdAt: now,
        updatedAt: now,
      };
      if (input.description !== undefined) subscription.description = input.description;
      if (input.rateLimitPerSecond !== undefined) subscription.rateLimitPerSecond = input.rateLimitPerSecond;
      if (input.ordering === "conversation") subscription.ordering = "conversation";
      await store.save(subscription);
      return { ...(await withState(subscription)), secret: subscription.secret };
    },
    async list() {
      return Promise.all((await store.list()).map(withState));
    },
    async get(id) {
      return withState(await find(id));
    },
    async update(id, patch) {
      if (patch.url !== undefined) await checkUrl(patch.url);
      const updated = await store.update(id, (current) => applyPatch(current, patch));
      if (!updated) throw new HubError("not_found", `no subscription ${id}`);
      if (patch.enabled === true) await redis.del(keys.failingSince(id));
      return withState(updated);
    },
    async delete(id) {
      if (!(await store.delete(id))) throw new HubError("not_found", `no subscription ${id}`);
    },
    async rotateSecret(id, secret) {
      const next = secret ?? generateSecret();
      const previousSecretExpiresAt = new Date(Date.now() + secretOverlapMs).toISOString();
      const updated = await store.update(id, (current) => ({
        ...current,
        secret: next,
        previousSecret: current.secret,
        previousSecretExpiresAt,
        updatedAt: new Date().toISOString(),
      }));
      if (!updated) throw new HubError("not_found", `no subscription ${id}`);
      return { secret: next, previousSecretExpiresAt };
    },
    async test(id) {
      const subscription = await find(id);
      if (!subscription.enabled) throw new HubError("conflict", `subscription ${id} is disabled; enable it first`);
      const data = { subscriptionId: id, message: "Test delivery from kefu-hub" };
      const { id: eventId } = await emit({ type: "kefu.ping", occurredAt: new Date().toISOString(), priority: "high", data }, id);
      return { eventId };
    },
    replayDelivery,
    async replaySince(subscriptionId, since) {
      await find(subscriptionId);
      const ids = await deliveries.deadSince(subscriptionId, Date.parse(since));
      let replayed = 0;
      for (const id of ids) {
        try {
          await replayDelivery(id);
          replayed++;
        } catch (error) {
          // Replayed meanwhile by someone else, or expired: nothing to do for it.
          if ((error as { name?: string }).name !== "HubError") throw error;
        }
      }
      return { replayed };
    },
  };
}

function applyPatch(current: Subscription, patch: SubscriptionPatch): Subscription {
  const next: Subscription = { ...current, updatedAt: new Date().toISOString() };
  if (patch.url !== undefined) next.url = patch.url;
  if (patch.events !== undefined) next.events = [...new Set(patch.events)];
  if (patch.description !== undefined) next.description = patch.description;
  if (patch.headers !== undefined) next.headers = lowerCaseNames(patch.headers);
  if (patch.rateLimitPerSecond === null) delete next.rateLimitPerSecond;
  else if (patch.rateLimitPerSecond !== undefined) next.rateLimitPerSecond = patch.rateLimitPerSecond;
  if (patch.ordering === "conversation") next.ordering = "conversation";
  else if (patch.ordering === "none") delete next.ordering;
  if (patch.enabled !== undefined) {
    next.enabled = patch.enabled;
    if (patch.enabled) delete next.disabledReason;
  }
  return next;
}

function apiSpelling(state: BreakerState): SubscriptionBreakerState {
  return state === "halfOpen" ? "half-open" : state;
}

/** Header names in lower case, so that `Webhook-Signature` cannot slip past the reserved names. */
function lowerCaseNames(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}
