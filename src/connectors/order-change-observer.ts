import type { EventObserver, HubEvent } from "../events/hub-event.ts";

/** Event types after which an order's cached parts are out of date, when they name `data.orderId`. */
const ORDER_CHANGE = /^(order|payment|refund|shipment|logistics)\./;

export interface OrderChangeObserverOptions {
  invalidate: (orderId: string) => Promise<void>;
  onError: (error: unknown, orderId: string) => void;
}

/**
 * Told of every accepted event (by ingestion, which includes what transform plugins made of
 * inbound webhooks): `order.updated`, and any `order.*`, `payment.*`, `refund.*`, `shipment.*`
 * or `logistics.*` event naming an order, drop that order's cached parts. Observers must not
 * throw, so failures are only reported.
 */
export function orderChangeObserver({ invalidate, onError }: OrderChangeObserverOptions): EventObserver {
  return (event: HubEvent) => {
    const orderId = changedOrderId(event);
    if (orderId === undefined) return;
    invalidate(orderId).catch((error: unknown) => onError(error, orderId));
  };
}

export function changedOrderId(event: HubEvent): string | undefined {
  if (!ORDER_CHANGE.test(event.type)) return undefined;
  const orderId = event.data["orderId"];
  return typeof orderId === "string" && orderId.length > 0 ? orderId : undefined;
}
