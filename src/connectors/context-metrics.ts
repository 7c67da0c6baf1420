import { Counter, Histogram, type Registry } from "prom-client";
import type { PartName } from "./context-parts.ts";
import type { CacheResult } from "./part-fetcher.ts";

/** `complete`: every part answered; `degraded`: some were left out; the rest are errors of the request. */
export type ContextOutcome = "complete" | "degraded" | "not_found" | "error";

export interface ContextMetrics {
  observe(outcome: ContextOutcome, seconds: number): void;
  cacheResult(part: PartName, result: CacheResult): void;
}

export function createContextMetrics(registry: Registry): ContextMetrics {
  const duration = new Histogram({
    name: "kefu_context_duration_seconds",
    help: "Time to answer an order context (or customer) request, by outcome",
    labelNames: ["outcome"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1, 1.5, 2.5],
    registers: [registry],
  });
  const cache = new Counter({
    name: "kefu_context_cache_total",
    help: "Order context cache lookups by part and result (hit: fresh, stale: served while refreshed, miss)",
    labelNames: ["part", "result"] as const,
    registers: [registry],
  });
  return {
    observe: (outcome, seconds) => duration.observe({ outcome }, seconds),
    cacheResult: (part, result) => cache.inc({ part, result }),
  };
}
