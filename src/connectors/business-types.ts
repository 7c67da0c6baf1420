/**
 * The business records the connector plugins return, as their kinds' schemas in
 * `schemas/plugins/` define them (the plugin host validates every result against those schemas).
 */
export interface OrderItem {
  sku: string;
  name: string;
  quantity: number;
  unitPrice: number;
}

export interface Order {
  id: string;
  status: "pending" | "paid" | "shipped" | "delivered" | "completed" | "cancelled" | "refunded";
  amount: number;
  currency: string;
  items: OrderItem[];
  customerId: string;
  createdAt: string;
  updatedAt: string;
}

export interface Refund {
  id: string;
  amount: number;
  status: "pending" | "succeeded" | "failed";
  reason?: string;
  createdAt: string;
}

export interface Payment {
  id: string;
  status: "pending" | "succeeded" | "failed" | "refunded" | "partially_refunded";
  amount: number;
  currency: string;
  method: string;
  paidAt: string | null;
  refunds: Refund[];
}

export interface ShipmentEvent {
  time: string;
  place: string;
  description: string;
}

export interface Shipment {
  carrier: string;
  trackingNo: string;
  status: "created" | "in_transit" | "out_for_delivery" | "delivered" | "exception" | "returned";
  events: ShipmentEvent[];
}

export interface Customer {
  id: string;
  name: string;
  tier: "regular" | "silver" | "gold" | "platinum";
  riskLevel: "low" | "medium" | "high";
  tags: string[];
  contacts: { type: "phone" | "email" | "wechat"; value: string }[];
}

/** `payments.getPayments` output. */
export interface OrderPayments {
  orderId: string;
  payments: Payment[];
}

/** `logistics.track` output. */
export interface OrderShipments {
  orderId: string;
  shipments: Shipment[];
}
