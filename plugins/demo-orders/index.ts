import type { GetOrderInput, Order } from "../../src/plugins/sdk/index.ts";
import { getJson } from "./client.ts";

/** The demo shop already answers in kefu-hub's order shape; a real plugin would map fields here. */
export async function getOrder({ orderId }: GetOrderInput): Promise<Order | null> {
  return getJson<Order>(`/orders/${encodeURIComponent(orderId)}`);
}
