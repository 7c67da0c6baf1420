import type { HubEvent } from "../events/hub-event.ts";
import { compileEventFilter, type EventFilter } from "../routing/event-filter.ts";
import type { Subscription } from "./subscription.ts";

/** Whether an event passes a subscription's `filter` (true when it has none). */
export type FilterCheck = (subscription: Subscription, event: HubEvent) => boolean;

/**
 * Compiles each subscription's filter once: the subscription cache replaces a subscription's
 * object when it changes, so a WeakMap keyed by it never serves a stale filter. A stored filter
 * was compiled when it was saved; one that no longer compiles (a fact removed in a later version)
 * matches nothing rather than everything, and is reported once.
 */
export function createFilterCheck(onInvalid: (subscription: Subscription, message: string) => void): FilterCheck {
  const compiled = new WeakMap<Subscription, EventFilter>();
  const filterOf = (subscription: Subscription): EventFilter | undefined => {
    if (!subscription.filter) return undefined;
    let filter = compiled.get(subscription);
    if (!filter) {
      const result = compileEventFilter(subscription.filter, "/filter");
      if (!result.filter) onInvalid(subscription, result.errors.map((e) => `${e.pointer}: ${e.message}`).join("; "));
      filter = result.filter ?? (() => false);
      compiled.set(subscription, filter);
    }
    return filter;
  };
  return (subscription, event) => filterOf(subscription)?.(event) ?? true;
}
