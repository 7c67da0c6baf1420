/** Redis keys of the events feature; every one starts with `${prefix}:`. */
export interface EventKeys {
  /** String: JSON {event, acceptedAt, only?}; its existence is the idempotency check. */
  event(id: string): string;
  /** Sorted set of event ids by acceptance time (ms): stored, but not yet handed to delivery. */
  handoff: string;
}

export function eventKeys(prefix: string): EventKeys {
  return {
    event: (id) => `${prefix}:ev:${id}`,
    handoff: `${prefix}:ev-handoff`,
  };
}
