import assert from "node:assert/strict";
import { test } from "node:test";
import { changedOrderId, orderChangeObserver } from "../../src/connectors/order-change-observer.ts";
import type { HubEvent } from "../../src/events/hub-event.ts";
import { eventually } from "../helpers/test-hub.ts";

const event = (type: string, data: Record<string, unknown>): HubEvent => ({
  id: `evt_${type}`, type, occurredAt: "2026-11-30T09:15:00Z", source: "shop-backend", priority: "normal", data,
});

test("order, payment, refund and shipment events that name an order say it changed", () => {
  assert.equal(changedOrderId(event("order.updated", { orderId: "SO-1" })), "SO-1");
  assert.equal(changedOrderId(event("payment.refunded", { orderId: "SO-2" })), "SO-2");
  assert.equal(changedOrderId(event("shipment.delivered", { orderId: "SO-3" })), "SO-3");
  assert.equal(changedOrderId(event("ticket.created", { orderId: "SO-4" })), undefined, "a ticket about an order does not change it");
  assert.equal(changedOrderId(event("order.updated", {})), undefined);
  assert.equal(changedOrderId(event("order.updated", { orderId: 42 })), undefined);
});

test("the observer invalidates, and reports instead of throwing when that fails", async () => {
  const invalidated: string[] = [];
  const errors: string[] = [];
  const observe = orderChangeObserver({
    invalidate: async (orderId) => {
      if (orderId === "bad") throw new Error("redis down");
      invalidated.push(orderId);
    },
    onError: (_error, orderId) => errors.push(orderId),
  });
  observe(event("order.updated", { orderId: "SO-1" }));
  observe(event("chat.message.created", { orderId: "SO-9" }));
  observe(event("order.updated", { orderId: "bad" }));
  await eventually(() => errors.length === 1, 1000, "the failure to be reported");
  assert.deepEqual(invalidated, ["SO-1"]);
  assert.deepEqual(errors, ["bad"]);
});
