/**
 * Types for plugin authors. Import them with `import type` (they vanish when the plugin is
 * bundled; nothing of the hub is ever loaded into the sandbox):
 *
 * ```ts
 * import type { GetOrderInput, Order } from "../../src/plugins/sdk/index.ts";
 * export async function getOrder({ orderId }: GetOrderInput): Promise<Order | null> { … }
 * ```
 *
 * `kefu` is a global inside the sandbox; declare it in your entry with
 * `declare const kefu: Kefu;` (see docs/plugins.md). The shapes below mirror the JSON Schemas in
 * `schemas/plugins/`, which every result is validated against.
 */

export type PluginKind = "orders" | "payments" | "logistics" | "crm" | "transform";

// ---- orders -------------------------------------------------------------------------------
export interface GetOrderInput {
  orderId: string;
}
export type OrderStatus = "pending" | "paid" | "shipped" | "delivered" | "completed" | "cancelled" | "refunded";
export interface OrderItem {
  sku: string;
  name: string;
  quantity: number;
  /** Major units of the order's currency. */
  unitPrice: number;
}
export interface Order {
  id: string;
  status: OrderStatus;
  /** Total in major units, e.g. 199.5. */
  amount: number;
  /** ISO 4217, e.g. "CNY". */
  currency: string;
  items: OrderItem[];
  customerId: string;
  /** ISO 8601 date-time. */
  createdAt: string;
  updatedAt: string;
}

// ---- payments -----------------------------------------------------------------------------
export interface GetPaymentsInput {
  orderId: string;
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
  /** e.g. "alipay", "wechat_pay", "unionpay", "card". */
  method: string;
  paidAt: string | null;
  refunds: Refund[];
}
export interface OrderPayments {
  orderId: string;
  payments: Payment[];
}

// ---- logistics ----------------------------------------------------------------------------
export interface TrackInput {
  orderId: string;
}
export interface TrackingEvent {
  time: string;
  place: string;
  description: string;
}
export interface Shipment {
  carrier: string;
  trackingNo: string;
  status: "created" | "in_transit" | "out_for_delivery" | "delivered" | "exception" | "returned";
  events: TrackingEvent[];
}
export interface OrderShipments {
  orderId: string;
  shipments: Shipment[];
}

// ---- crm ----------------------------------------------------------------------------------
export interface GetCustomerInput {
  customerId: string;
}
export interface Customer {
  id: string;
  name: string;
  tier: "regular" | "silver" | "gold" | "platinum";
  riskLevel: "low" | "medium" | "high";
  tags: string[];
  contacts: { type: "phone" | "email" | "wechat"; value: string }[];
}

// ---- transform ----------------------------------------------------------------------------
export interface InboundInput {
  /** The `:source` of `POST /v1/inbound/:source`. */
  source: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: unknown;
}
export interface InboundEvent {
  /** @defaultValue `<inbound delivery id>.<index>`, so that a re-run (recovery, replay) makes no second event */
  id?: string;
  type: string;
  occurredAt?: string;
  source?: string;
  priority?: "urgent" | "high" | "normal" | "low";
  data: Record<string, unknown>;
}
/** A behaviour event for the customer's open sessions (schemas/sessions/behavior-event.schema.json). */
export interface InboundBehaviorEvent {
  /** @defaultValue `<inbound delivery id>.b<index>` */
  id?: string;
  customerId: string;
  /** Dotted, e.g. `shipment.delayed`. */
  type: string;
  /** @defaultValue when the hub received the webhook */
  occurredAt?: string;
  data: Record<string, unknown>;
}
export interface TransformResult {
  /** At most 100; each becomes a hub event as if posted to POST /v1/events (source defaults to the inbound source). */
  events: InboundEvent[];
  /** At most 100. */
  behavior?: InboundBehaviorEvent[];
}

/** One delivery to a subscription whose `transform` names this plugin (schemas/plugins/input/outbound.schema.json). */
export interface OutboundInput {
  subscriptionId: string;
  event: InboundEvent & { id: string; occurredAt: string; source: string; priority: "urgent" | "high" | "normal" | "low"; routing?: Record<string, unknown> };
  /** The body kefu-hub would send: `{type, timestamp, data}`. */
  payload: Record<string, unknown>;
}

/** The methods each kind exports, with their input and result (`?`: optional). */
export interface KindMethods {
  orders: { getOrder(input: GetOrderInput): Promise<Order | null> };
  payments: { getPayments(input: GetPaymentsInput): Promise<OrderPayments | null> };
  logistics: { track(input: TrackInput): Promise<OrderShipments | null> };
  crm: { getCustomer(input: GetCustomerInput): Promise<Customer | null> };
  transform: { inbound(input: InboundInput): Promise<TransformResult | null>; outbound?(input: OutboundInput): Promise<Record<string, unknown> | null> };
}

// ---- the `kefu` global ----------------------------------------------------------------------
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface KefuFetchInit {
  /** @defaultValue "GET" */
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD";
  headers?: Record<string, string>;
  /** Sent as is; stringify JSON yourself. */
  body?: string;
  /** Shorter than the call's remaining time has no effect beyond it. @defaultValue the plugin's limits.timeoutMs */
  timeoutMs?: number;
}

/** The answer of kefu.http.fetch: the body is read by the host (capped at 1 MB) before you get it. */
export interface KefuResponse {
  status: number;
  ok: boolean;
  /** Lower-cased names. */
  headers: Record<string, string>;
  /** Set for a 3xx: redirects are never followed. */
  redirectedTo?: string;
  text(): Promise<string>;
  json<T = unknown>(): Promise<T>;
}

export interface KefuLog {
  debug(message: string, fields?: Record<string, JsonValue>): void;
  info(message: string, fields?: Record<string, JsonValue>): void;
  warn(message: string, fields?: Record<string, JsonValue>): void;
  error(message: string, fields?: Record<string, JsonValue>): void;
}

/** `Config` is the shape of your validated config, e.g. `declare const kefu: Kefu<{ baseUrl: string }>;`. */
export interface Kefu<Config extends object = Record<string, JsonValue>> {
  http: { fetch(url: string, init?: KefuFetchInit): Promise<KefuResponse> };
  /** Only when the manifest says `"cache": true`; keys live under this plugin's own namespace. */
  cache: {
    /** The stored value (as JSON came back), or null when absent or expired. */
    get<T = JsonValue>(key: string): Promise<T | null>;
    /** Stores any JSON-serialisable value (at most 256 KB). @param ttlSeconds 1..86400, @defaultValue 300 */
    set(key: string, value: unknown, ttlSeconds?: number): Promise<void>;
  };
  log: KefuLog;
  /** The plugin's config after validation against the manifest's `config` schema (defaults applied). Frozen. */
  config: Readonly<Config>;
  /** Only the names listed in the manifest's `capabilities.secrets`; a name with no value is absent. Frozen. */
  secrets: Readonly<Record<string, string>>;
}
