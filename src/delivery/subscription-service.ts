import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { HubError } from "../http/errors.ts";
import { compileEventFilter } from "../routing/event-filter.ts";
import type { Condition } from "../routing/ruleset.ts";
import type { BreakerState } from "../resilience/breaker-registry.ts";
import type { OriginBreakers } from "./breaker-registry.ts";
import type { DeliveryKeys } from "./delivery-keys.ts";
import type { DeliveryStore } from "./delivery-store.ts";
import type { FanOut } from "./fan-out.ts";
import type { OutboundTransforms } from "./outbound-payload.ts";
import type { MaskEntry } from "./payload-mask.ts";
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
  filter?: Condition;
  transform?: { plugin: string };
  mask?: MaskEntry[];
  secret?: string;
}

/** `null` removes an optional setting. */
export type SubscriptionPatch = Partial<Omit<SubscriptionInput, "secret" | "filter" | "mask" | "transform">> & {
  rateLimitPerSecond?: number | null;
  filter?: Condition | null;
  transform?: { plugin: string } | null;
  mask?: MaskEntry[] | null;
};

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
  /** Which plugins exist, to refuse a `transform` naming none or one of another kind. */
  transforms?: Pick<OutboundTransforms, "kindOf">;
}

export function createSubscriptionService(options: SubscriptionServiceOptions): SubscriptionService {
  const { redis, keys, store, deliveries, fanOut, guard, breakers, emit, secretOverlapMs, transforms } = options;
  const checkTransform = (transform: { plugin: string }): void => {
    const kind = transforms?.kindOf(transform.plugin);
    // null: known but never loaded (its load failed): accepted, its deliveries fail until it loads.
    if (kind === "transform" || kind === null) return;
    const message = kind === undefined ? `no plugin ${transform.plugin} is installed (GET /v1/plugins lists them)` : `plugin ${transform.plugin} is a ${kind} plugin, not a transform plugin`;
    throw new HubError("unprocessable", `the transform is invalid: ${message}`, { errors: [{ pointer: "/transform/plugin", message }] });
  };

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
  /** A replay to a disabled or deleted subscription would fail at once: refuse it instead of a 202. */
  const assertDeliverable = (subscriptionId: string, subscription: Subscription | undefined): void => {
    if (!subscription) throw new HubError("conflict", `subscription ${subscriptionId} was deleted; its dead letters cannot be delivered again`);
    if (!subscription.enabled) {
      const why = subscription.disabledReason === "gone" ? " (its receiver answered 410 Gone)" : subscription.disabledReason === "failing" ? " (it kept failing for KEFU_DELIVERY_DISABLE_AFTER_HOURS)" : "";
      throw new HubError("conflict", `subscription ${subscriptionId} is disabled${why}; enable it first (PATCH /v1/subscriptions/${subscriptionId} with {"enabled": true}), then replay`);
    }
  };
  const replayDelivery = async (deliveryId: string): Promise<{ deliveryId: string }> => {
    const current = await deliveries.get(deliveryId);
    if (!current) throw new HubError("not_found", `no delivery ${deliveryId}`);
    if (current.status === "failed") assertDeliverable(current.subscriptionId, await store.get(current.subscriptionId));
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
      if (input.filter) checkFilter(input.filter);
      if (input.transform) checkTransform(input.transform);
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
      if (input.filter) subscription.filter = input.filter;
      if (input.transform) subscription.transform = { plugin: input.transform.plugin };
      if (input.mask && input.mask.length > 0) subscription.mask = input.mask;
      subscription.maskKey = generateSecret();
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
      if (patch.filter) checkFilter(patch.filter);
      if (patch.transform) checkTransform(patch.transform);
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
      assertDeliverable(subscriptionId, await find(subscriptionId));
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
  if (patch.filter === null) delete next.filter;
  else if (patch.filter !== undefined) next.filter = patch.filter;
  if (patch.transform === null) delete next.transform;
  else if (patch.transform !== undefined) next.transform = { plugin: patch.transform.plugin };
  if (patch.mask === null || patch.mask?.length === 0) delete next.mask;
  else if (patch.mask !== undefined) next.mask = patch.mask;
  // Subscriptions saved before masks existed get their hash key with their first mask.
  if (next.mask && !next.maskKey) next.maskKey = generateSecret();
  if (patch.enabled !== undefined) {
    next.enabled = patch.enabled;
    if (patch.enabled) delete next.disabledReason;
  }
  return next;
}

/** A filter that does not compile is refused with the compiler's messages, each at its field. */
function checkFilter(filter: Condition): void {
  const { errors } = compileEventFilter(filter, "/filter");
  const [first] = errors;
  if (!first) return;
  throw new HubError("unprocessable", `the filter is invalid: ${first.pointer} ${first.message}`, { errors: errors.map(({ pointer, message }) => ({ pointer, message })) });
}

function apiSpelling(state: BreakerState): SubscriptionBreakerState {
  return state === "halfOpen" ? "half-open" : state;
}

/** Header names in lower case, so that `Webhook-Signature` cannot slip past the reserved names. */
function lowerCaseNames(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}
