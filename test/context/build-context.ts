import { createConnectors } from "../../src/connectors/connectors.ts";
import { PART_NAMES, type PartName } from "../../src/connectors/context-parts.ts";
import { createOrderContextService, type OrderContextService } from "../../src/connectors/order-context.ts";
import { createPartFetcher } from "../../src/connectors/part-fetcher.ts";
import { createHotContext } from "../../src/connectors/hot-context.ts";
import { createPluginBreakers, type PluginBreakers } from "../../src/connectors/plugin-breakers.ts";
import type { PluginCaller, PluginKind } from "../../src/plugins/plugin-caller.ts";
import type { BreakerSettings } from "../../src/resilience/breaker-registry.ts";
import type { CacheTier } from "../../src/resilience/cache-tier.ts";
import { createSingleFlight } from "../../src/resilience/single-flight.ts";
import { createSwrCache, type SwrCache } from "../../src/resilience/swr-cache.ts";

export interface ContextUnderTest {
  service: OrderContextService;
  breakers: PluginBreakers;
  cache: SwrCache;
  close: () => void;
}

export interface BuildOptions {
  partTimeoutMs?: number;
  deadlineMs?: number;
  callTimeoutMs?: number;
  ttlMs?: number;
  maxStaleMs?: number;
  breaker?: Partial<BreakerSettings>;
  tier?: CacheTier;
}

/** The aggregator wired as the module wires it, with millisecond TTLs so that tests can watch them pass. */
export function buildContext(caller: PluginCaller, options: BuildOptions = {}): ContextUnderTest {
  const { partTimeoutMs = 150, deadlineMs = 300, callTimeoutMs = 2000, ttlMs = 10_000, maxStaleMs = 10_000 } = options;
  const breakers = createPluginBreakers({
    settings: { volumeThreshold: 5, errorThresholdPercentage: 50, resetTimeoutMs: 60_000, rollingWindowMs: 10_000, ...options.breaker },
  });
  const cache = createSwrCache(options.tier ? { tier: options.tier } : {});
  const flights = createSingleFlight<unknown>();
  const policies = Object.fromEntries(PART_NAMES.map((part) => [part, { ttlMs, maxStaleMs }])) as Record<PartName, { ttlMs: number; maxStaleMs: number }>;
  const pluginFor = (kind: PluginKind): string | undefined => caller.pluginFor(kind);
  const fetchPart = createPartFetcher({ binding: (kind) => caller.binding(kind), cache, breakers, flights, policies, callTimeoutMs });
  const service = createOrderContextService({
    connectors: createConnectors(caller),
    fetchPart,
    cache,
    flights,
    timeouts: { partTimeoutMs, deadlineMs },
    hot: createHotContext({ cache, policies, pluginFor }),
  });
  return { service, breakers, cache, close: () => breakers.close() };
}
