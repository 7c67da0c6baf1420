import type { OrderShipments, TrackInput } from "../../src/plugins/sdk/index.ts";
import { getJson } from "./client.ts";

export async function track({ orderId }: TrackInput): Promise<OrderShipments | null> {
  const answer = await getJson<OrderShipments>(`/orders/${encodeURIComponent(orderId)}/shipments`);
  // Newest tracking event first, as agents read them.
  answer?.shipments.forEach((shipment) => shipment.events.sort((a, b) => b.time.localeCompare(a.time)));
  return answer;
}
