import { isHubError } from "../http/errors.ts";
import { isBreakerOpenError } from "../resilience/breaker-errors.ts";
import type { CachePolicy } from "../resilience/cache-entry.ts";
import type { SingleFlight } from "../resilience/single-flight.ts";
import type { CacheLookup, SwrCache } from "../resilience/swr-cache.ts";
import { settleWithin } from "../resilience/timeout.ts";
import { unservedCode, type KindBinding, type PluginKind } from "../plugins/plugin-caller.ts";
import type { PartName, PartSpec, PartValues } from "./context-parts.ts";
import type { PluginBreakers } from "./plugin-breakers.ts";

export const DEGRADED_REASONS = [
  "timeout",
  "circuit_open",
  "plugin_error",
  "plugin_output_invalid",
  "plugin_timeout",
  "plugin_unavailable",
  "plugin_ambiguous",
  "input_invalid",
  "order_unavailable",
  "internal",
] as const;
export type DegradedReason = (typeof DEGRADED_REASONS)[number];

export type CacheResult = "hit" | "stale" | "miss";

/** Where a part came from, as `sources.<part>` of the answer shows it. */
export interface PartSource {
  /** The plugin that serves the part's kind; null when none is loaded. */
  plugin: string | null;
  cache: CacheResult;
  /** Age of the data served, 0 when fetched for this request. */
  ageMs: number;
  /** Time this request spent on the part. */
  durationMs: number;
}

export type PartOutcome<P extends PartName> =
  | { ok: true; value: PartValues[P]; source: PartSource }
  | { ok: false; reason: DegradedReason; source: PartSource; /** Why no plugin serves the part's kind, when that is the reason. */ detail?: string };

export interface PartFetcherOptions {
  /** Who serves a kind now, or why no plugin does (the plugin host's `binding`). */
  binding: (kind: PluginKind) => KindBinding;
  cache: SwrCache;
  breakers: PluginBreakers;
  flights: SingleFlight<unknown>;
  policies: Readonly<Record<PartName, CachePolicy>>;
  /** How long a plugin call may run at all, in the background after the answer was sent (fills the cache). */
  callTimeoutMs: number;
  /** Told of every refresh that failed (logging); never of a closed breaker's rejections. */
  onRefreshError?: (spec: PartSpec, plugin: string, error: unknown) => void;
  /** Told of every cache lookup result (metrics). */
  onCacheResult?: (part: PartName, result: CacheResult) => void;
}

export type PartFetcher = <P extends PartName>(spec: PartSpec<P>, budgetMs: number) => Promise<PartOutcome<P>>;

/**
 * Fetches one part: a fresh cache entry is served as is; a stale one is served at once while one
 * refresh runs in the background (stale-while-revalidate); with nothing cached the caller waits
 * for the plugin at most `budgetMs`. Every plugin call goes through the method's breaker and is
 * shared by concurrent requests (single-flight), and its result fills the cache even when it
 * arrives after the caller stopped waiting.
 */
export function createPartFetcher(options: PartFetcherOptions): PartFetcher {
  const { cache, breakers, flights, policies, callTimeoutMs, onRefreshError, onCacheResult } = options;

  const refresh = <P extends PartName>(spec: PartSpec<P>, plugin: string): Promise<PartValues[P]> =>
    flights.run(spec.key, async () => {
      const loadStartedAt = Date.now();
      try {
        const value = await breakers.fire({ plugin, method: spec.method }, () => spec.load({ timeoutMs: callTimeoutMs }));
        if (value !== null || spec.cacheNotFound) await cache.set(spec.key, value, policies[spec.part], { loadStartedAt });
        return value;
      } catch (error) {
        if (!isBreakerOpenError(error)) onRefreshError?.(spec, plugin, error);
        throw error;
      }
    }) as Promise<PartValues[P]>;

  return async <P extends PartName>(spec: PartSpec<P>, budgetMs: number): Promise<PartOutcome<P>> => {
    const started = performance.now();
    const policy = policies[spec.part];
    const binding = options.binding(spec.kind);
    const plugin = binding.plugin ?? undefined;
    const source = (cacheResult: CacheResult, ageMs: number): PartSource => ({
      plugin: plugin ?? null,
      cache: cacheResult,
      ageMs: Math.round(ageMs),
      durationMs: Math.round((performance.now() - started) * 10) / 10,
    });
    // The synchronous in-process lookup first: the hot path never waits for Redis.
    const local = cache.peek<PartValues[P]>(spec.key, policy);
    const cached = local?.state === "fresh" ? local : await cache.get<PartValues[P]>(spec.key, policy);
    if (cached?.state === "fresh") return served(cached, "hit");
    if (!plugin) return cached ? served(cached, "stale") : unserved();
    const flight = refresh(spec, plugin);
    if (cached) {
      flight.catch(() => undefined); // reported by refresh; the stale value answers this request
      return served(cached, "stale");
    }
    onCacheResult?.(spec.part, "miss");
    const settled = await settleWithin(flight, budgetMs);
    if (settled.status === "fulfilled") return { ok: true, value: settled.value, source: source("miss", 0) };
    return { ok: false, reason: settled.status === "timeout" ? "timeout" : reasonOf(settled.reason), source: source("miss", 0) };

    function served(lookup: CacheLookup<PartValues[P]>, result: "hit" | "stale"): PartOutcome<P> {
      onCacheResult?.(spec.part, result);
      return { ok: true, value: lookup.value, source: source(result, lookup.ageMs) };
    }
    function unserved(): PartOutcome<P> {
      onCacheResult?.(spec.part, "miss");
      return { ok: false, reason: unservedCode(binding), source: source("miss", 0), ...(binding.detail ? { detail: binding.detail } : {}) };
    }
  };
}

export function reasonOf(error: unknown): DegradedReason {
  if (isBreakerOpenError(error)) return "circuit_open";
  if (isHubError(error)) {
    const code = error.code;
    if (code === "plugin_error" || code === "plugin_output_invalid" || code === "plugin_timeout" || code === "plugin_unavailable" || code === "plugin_ambiguous") return code;
    // The host refused the id before the call: for the customer, one the order names that is no business id.
    if (code === "validation_failed") return "input_invalid";
  }
  return "internal";
}
