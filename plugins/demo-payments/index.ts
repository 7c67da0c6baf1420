import type { GetPaymentsInput, OrderPayments } from "../../src/plugins/sdk/index.ts";
import { getJson } from "./client.ts";

export async function getPayments({ orderId }: GetPaymentsInput): Promise<OrderPayments | null> {
  return getJson<OrderPayments>(`/orders/${encodeURIComponent(orderId)}/payments`);
}
