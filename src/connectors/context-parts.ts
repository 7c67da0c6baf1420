import type { PluginCallOptions, PluginKind } from "../plugins/plugin-caller.ts";
import type { Customer, Order, Payment, Shipment } from "./business-types.ts";
import type { Connectors } from "./connectors.ts";

export const PART_NAMES = ["order", "payments", "shipments", "customer"] as const;
export type PartName = (typeof PART_NAMES)[number];

export interface PartValues {
  order: Order | null;
  payments: Payment[];
  shipments: Shipment[];
  customer: Customer | null;
}

/** One unit of work of the order context: which plugin method fetches it and where it is cached. */
export interface PartSpec<P extends PartName = PartName> {
  part: P;
  kind: PluginKind;
  method: string;
  /** Cache and single-flight key. */
  key: string;
  /**
   * Whether a "not found" answer is cached. Not for orders: an order placed a moment ago must be
   * found at once, rather than answer 404 until the TTL runs out.
   */
  cacheNotFound: boolean;
  load(options: PluginCallOptions): Promise<PartValues[P]>;
}

export function partKey(part: PartName, id: string): string {
  return `${part}:${id}`;
}

/** The specs of the parts that an order id determines. */
export function orderParts(connectors: Connectors, orderId: string): {
  order: PartSpec<"order">;
  payments: PartSpec<"payments">;
  shipments: PartSpec<"shipments">;
} {
  return {
    order: {
      part: "order", kind: "orders", method: "getOrder", key: partKey("order", orderId), cacheNotFound: false,
      load: (options) => connectors.orders.getOrder(orderId, options),
    },
    payments: {
      part: "payments", kind: "payments", method: "getPayments", key: partKey("payments", orderId), cacheNotFound: true,
      load: (options) => connectors.payments.getPayments(orderId, options),
    },
    shipments: {
      part: "shipments", kind: "logistics", method: "track", key: partKey("shipments", orderId), cacheNotFound: true,
      load: (options) => connectors.logistics.track(orderId, options),
    },
  };
}

export function customerPart(connectors: Connectors, customerId: string): PartSpec<"customer"> {
  return {
    part: "customer", kind: "crm", method: "getCustomer", key: partKey("customer", customerId), cacheNotFound: true,
    load: (options) => connectors.crm.getCustomer(customerId, options),
  };
}
