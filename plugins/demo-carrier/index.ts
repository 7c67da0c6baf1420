import type { InboundEvent, InboundInput, TransformResult } from "../../src/plugins/sdk/index.ts";

/** A tracking push as the demo carrier sends it (many Chinese carriers push much the same fields). */
interface TrackingPush {
  pushId?: string;
  carrier?: string;
  trackingNo?: string;
  /** The shop's order the parcel belongs to. */
  orderId?: string;
  status?: string;
  /** ISO 8601 with offset, e.g. 2026-12-02T09:30:00+08:00. */
  time?: string;
  place?: string;
  description?: string;
}

/** Carrier statuses → the shipment statuses of schemas/plugins/logistics.schema.json. */
const STATUS: Record<string, string> = {
  created: "created",
  picked_up: "in_transit",
  in_transit: "in_transit",
  out_for_delivery: "out_for_delivery",
  delivered: "delivered",
  signed: "delivered",
  exception: "exception",
  returned: "returned",
};

/**
 * One tracking push → `order.updated` for its order: the hub then drops the order's cached
 * context (order, payments, shipments), so the agent's next look shows the carrier's news. A push
 * without an order id is refused (thrown), so that it waits as a dead letter instead of vanishing.
 */
export async function inbound({ body }: InboundInput): Promise<TransformResult | null> {
  const push = body as TrackingPush;
  if (typeof push.orderId !== "string" || push.orderId === "") throw new Error("the push names no orderId");
  const status = STATUS[push.status ?? ""] ?? "in_transit";
  const event: InboundEvent = {
    type: "order.updated",
    // Problems with a parcel reach agents first.
    priority: status === "exception" || status === "returned" ? "high" : "normal",
    data: {
      orderId: push.orderId,
      changes: {
        shipment: {
          carrier: push.carrier ?? "unknown",
          trackingNo: push.trackingNo ?? "",
          status,
          lastEvent: { time: push.time ?? "", place: push.place ?? "", description: push.description ?? "" },
        },
      },
    },
  };
  if (push.time && !Number.isNaN(Date.parse(push.time))) event.occurredAt = new Date(push.time).toISOString();
  return { events: [event] };
}
