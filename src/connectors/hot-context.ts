import type { PluginKind } from "../plugins/plugin-caller.ts";
import type { CachePolicy } from "../resilience/cache-entry.ts";
import type { SerializedLookup, SwrCache } from "../resilience/swr-cache.ts";
import type { Order } from "./business-types.ts";
import type { ContextMetrics } from "./context-metrics.ts";
import { PART_NAMES, partKey, type PartName } from "./context-parts.ts";
import type { ContextRequest } from "./order-context.ts";

export const KIND_OF_PART: Readonly<Record<PartName, PluginKind>> = { order: "orders", payments: "payments", shipments: "logistics", customer: "crm" };

export interface HotContextOptions {
  cache: SwrCache;
  policies: Readonly<Record<PartName, CachePolicy>>;
  pluginFor: (kind: PluginKind) => string | undefined;
  metrics?: ContextMetrics;
}

/**
 * The hot path of the order context: when every part asked for is fresh in this process, the
 * answer is built synchronously from each part's JSON, serialized once when it was cached —
 * no promise, no deadline, no re-serialization of the parts. Otherwise it returns undefined and
 * the caller takes the full path. The JSON is exactly what the full path answers for the same
 * cache state (a test holds them equal).
 */
export function createHotContext({ cache, policies, pluginFor, metrics }: HotContextOptions): (request: ContextRequest) => Buffer | undefined {
  // The fixed fragments, encoded once.
  const keys = Object.fromEntries(PART_NAMES.map((part) => [part, Buffer.from(`,"${part}":`, "latin1")])) as Record<PartName, Buffer>;
  const pluginJson = new Map<string | undefined, string>();
  const pluginOf = (part: PartName): string => {
    const plugin = pluginFor(KIND_OF_PART[part]);
    let json = pluginJson.get(plugin);
    if (json === undefined) pluginJson.set(plugin, (json = plugin === undefined ? "null" : JSON.stringify(plugin)));
    return json;
  };
  return ({ orderId, parts = PART_NAMES, customerId }) => {
    const started = performance.now();
    const found: Partial<Record<PartName, SerializedLookup<unknown>>> = {};
    for (const part of PART_NAMES) {
      if (part === "customer" || !parts.includes(part)) continue;
      const lookup = cache.peekSerialized(partKey(part, orderId), policies[part]);
      if (lookup?.state !== "fresh") return undefined;
      found[part] = lookup;
    }
    if (parts.includes("customer")) {
      let customer = customerId;
      if (customer === undefined) {
        const order = found.order ?? cache.peekSerialized<Order | null>(partKey("order", orderId), policies.order);
        if (order?.state !== "fresh" || !order.value) return undefined;
        customer = (order.value as Order).customerId;
      }
      const lookup = cache.peekSerialized(partKey("customer", customer), policies.customer);
      if (lookup?.state !== "fresh") return undefined;
      found.customer = lookup;
    }
    // A cached null order never exists (not-found orders are not cached), so this is a 200. The
    // parts are copied as the bytes cached with them: encoding them again as UTF-8 on every
    // answer was the largest cost of this path.
    const chunks: Buffer[] = [Buffer.from(`{"orderId":${JSON.stringify(orderId)}`)];
    let sources = "";
    for (const part of PART_NAMES) {
      const lookup = found[part];
      if (!lookup) continue;
      metrics?.cacheResult(part, "hit");
      chunks.push(keys[part], lookup.json);
      sources += `${sources ? "," : ""}"${part}":{"plugin":${pluginOf(part)},"cache":"hit","ageMs":${Math.round(lookup.ageMs)},"durationMs":0}`;
    }
    chunks.push(Buffer.from(`,"degraded":[],"sources":{${sources}}}`));
    metrics?.observe("complete", (performance.now() - started) / 1000);
    return Buffer.concat(chunks);
  };
}
