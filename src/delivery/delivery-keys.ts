/**
 * Redis keys of subscriptions and deliveries. All start with `${prefix}:` (the test cleanup and
 * operators rely on it). The fan-out script writes keys of several hash slots (an event's records,
 * its subscriptions' indexes, conversation queues), so the hub needs one Redis primary, not a
 * Cluster.
 */
export interface DeliveryKeys {
  /** Hash: subscription id → JSON. */
  subscriptions: string;
  /** Pub/sub channel announcing subscription writes. */
  subscriptionChanges: string;
  /** String: ISO time of the first failure since the last success. */
  failingSince(subscriptionId: string): string;
  /** Sorted set of delivery ids by creation time (ms). */
  subscriptionDeliveries(subscriptionId: string): string;
  /** Sorted set of dead-letter delivery ids by failure time (ms). */
  subscriptionDead(subscriptionId: string): string;
  /** Sorted set of all dead-letter delivery ids by failure time (ms). */
  dead: string;
  /** Sorted set of every delivery id by creation time (ms), trimmed to the records' retention. */
  deliveries: string;
  /**
   * Hash: one delivery's state. Hash tag `{eventId}`, shared with its attempt log and its event's
   * delivery index, so that one script may write any of them on Redis Cluster.
   */
  delivery(deliveryId: string): string;
  /** List of JSON attempts, newest last. */
  attempts(deliveryId: string): string;
  /** Counter of deliveries started in one second, for `rateLimitPerSecond`. */
  rate(subscriptionId: string, second: number): string;
  /**
   * Sorted set of an event's delivery ids by creation time. Hash tag `{eventId}`, shared with the
   * event's delivery records.
   */
  eventDeliveries(eventId: string): string;
  /**
   * List of the deliveries of one conversation to an `ordering: "conversation"` subscription, in
   * accept order, as `<deliveryId>\n<job JSON>`; only the head has a job.
   */
  conversationQueue(subscriptionId: string, conversationKey: string): string;
  /** Sorted set of `<queue key>\n<deliveryId>` by time (ms): new heads whose job may not be queued yet. */
  conversationsDue: string;
}

export function deliveryKeys(prefix: string): DeliveryKeys {
  return {
    subscriptions: `${prefix}:subs`,
    subscriptionChanges: `${prefix}:subs:changed`,
    failingSince: (id) => `${prefix}:sub:${id}:failing`,
    subscriptionDeliveries: (id) => `${prefix}:sub:${id}:dlv`,
    subscriptionDead: (id) => `${prefix}:sub:${id}:dead`,
    dead: `${prefix}:dead`,
    deliveries: `${prefix}:dlvs`,
    delivery: (id) => `${prefix}:dlv:${taggedDeliveryId(id)}`,
    attempts: (id) => `${prefix}:dlv:${taggedDeliveryId(id)}:att`,
    rate: (id, second) => `${prefix}:sub:${id}:rate:${second}`,
    eventDeliveries: (id) => `${prefix}:ev:{${id}}:dlv`,
    conversationQueue: (id, key) => `${prefix}:sub:${id}:conv:${key}`,
    conversationsDue: `${prefix}:conv-due`,
  };
}

/**
 * BullMQ key prefix: the hash tag `{prefix}` puts every key of a queue in one Redis Cluster slot,
 * as BullMQ's Lua scripts need.
 */
export function queuePrefix(prefix: string): string {
  return `{${prefix}}`;
}

export const DELIVERY_QUEUE = "delivery";

/** `{eventId}.{subscriptionId}`: BullMQ refuses `:` in custom job ids; subscription ids hold no `.`. */
export function deliveryIdOf(eventId: string, subscriptionId: string): string {
  return `${eventId}.${subscriptionId}`;
}

export function parseDeliveryId(deliveryId: string): { eventId: string; subscriptionId: string } | undefined {
  const at = deliveryId.lastIndexOf(".");
  if (at <= 0 || at === deliveryId.length - 1) return undefined;
  return { eventId: deliveryId.slice(0, at), subscriptionId: deliveryId.slice(at + 1) };
}

/** `{eventId}.subscriptionId`: the event id as the hash tag (the whole id if it cannot be split). */
function taggedDeliveryId(deliveryId: string): string {
  const parts = parseDeliveryId(deliveryId);
  return parts ? `{${parts.eventId}}.${parts.subscriptionId}` : `{${deliveryId}}`;
}
