import type { PluginCallOptions, PluginCaller, PluginKind } from "../plugins/plugin-caller.ts";
import type { Customer, Order, OrderPayments, OrderShipments, Payment, Shipment } from "./business-types.ts";

/**
 * Typed facades over the {@link PluginCaller}, one per plugin kind, so that the rest of the hub
 * never spells a method name or casts a result. Failures reject as the caller's do (HubError
 * `plugin_*` codes).
 */
export interface Connectors {
  orders: {
    /** `null`: the orders system does not know the order. */
    getOrder(orderId: string, options?: PluginCallOptions): Promise<Order | null>;
  };
  payments: {
    /** Empty when the payment system knows no payment of the order. */
    getPayments(orderId: string, options?: PluginCallOptions): Promise<Payment[]>;
  };
  logistics: {
    /** Empty when the carrier knows no shipment of the order. */
    track(orderId: string, options?: PluginCallOptions): Promise<Shipment[]>;
  };
  crm: {
    /** `null`: the CRM does not know the customer. */
    getCustomer(customerId: string, options?: PluginCallOptions): Promise<Customer | null>;
  };
  /** The plugin serving `kind` now, if any. */
  pluginFor(kind: PluginKind): string | undefined;
}

export function createConnectors(caller: PluginCaller): Connectors {
  return {
    orders: {
      getOrder: (orderId, options) => caller.call<Order>("orders", "getOrder", { orderId }, options),
    },
    payments: {
      getPayments: async (orderId, options) =>
        (await caller.call<OrderPayments>("payments", "getPayments", { orderId }, options))?.payments ?? [],
    },
    logistics: {
      track: async (orderId, options) =>
        (await caller.call<OrderShipments>("logistics", "track", { orderId }, options))?.shipments ?? [],
    },
    crm: {
      getCustomer: (customerId, options) => caller.call<Customer>("crm", "getCustomer", { customerId }, options),
    },
    pluginFor: (kind) => caller.pluginFor(kind),
  };
}
