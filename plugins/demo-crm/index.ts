import type { Customer, GetCustomerInput, Kefu } from "../../src/plugins/sdk/index.ts";
import { getJson } from "./client.ts";

declare const kefu: Kefu<{ baseUrl: string; cacheTtlSeconds: number }>;

/** Customers change rarely, so a copy is kept in kefu.cache for `cacheTtlSeconds`. */
export async function getCustomer({ customerId }: GetCustomerInput): Promise<Customer | null> {
  const ttl = kefu.config.cacheTtlSeconds;
  const key = `customer:${customerId}`;
  if (ttl > 0) {
    const cached = await kefu.cache.get<Customer>(key);
    if (cached) return cached;
  }
  const customer = await getJson<Customer>(`/customers/${encodeURIComponent(customerId)}`);
  if (customer && ttl > 0) await kefu.cache.set(key, customer, ttl);
  else kefu.log.debug("customer not found", { customerId });
  return customer;
}
