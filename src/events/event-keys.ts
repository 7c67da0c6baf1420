/** Redis keys of the events feature; every one starts with `${prefix}:`. */
export interface EventKeys {
  /** String: JSON {event, acceptedAt, token}; its existence is the idempotency check. */
  event(id: string): string;
  /**
   * Sorted set of the event's delivery ids by creation time. Hash tag `{id}`, shared with the
   * event's delivery records (delivery-keys.ts), so that one script creates them all.
   */
  eventDeliveries(id: string): string;
  /** Stream of accepted events waiting for fan-out (the durable outbox). */
  outbox: string;
}

export function eventKeys(prefix: string): EventKeys {
  return {
    event: (id) => `${prefix}:ev:${id}`,
    eventDeliveries: (id) => `${prefix}:ev:{${id}}:dlv`,
    outbox: `${prefix}:outbox`,
  };
}

export const OUTBOX_GROUP = "fanout";
