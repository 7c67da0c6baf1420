/**
 * The business records the connector plugins return. One copy of these types: the plugin SDK's,
 * which plugin authors write against; `schemas/plugins/` holds the schemas every result is
 * validated against before the connectors see it.
 */
export type {
  Customer,
  Order,
  OrderItem,
  OrderPayments,
  OrderShipments,
  Payment,
  Refund,
  Shipment,
  TrackingEvent as ShipmentEvent,
} from "../plugins/sdk/index.ts";
