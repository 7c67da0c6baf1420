import { Counter, Histogram, type Registry } from "prom-client";
import { PART_NAMES, type PartName } from "./context-parts.ts";
import type { CacheResult } from "./part-fetcher.ts";

/** `complete`: every part answered; `degraded`: some were left out; the rest are errors of the request. */
export type ContextOutcome = "complete" | "degraded" | "not_found" | "error";

export interface ContextMetrics {
  observe(outcome: ContextOutcome, seconds: number): void;
  cacheResult(part: PartName, result: CacheResult): void;
}

const RESULTS: readonly CacheResult[] = ["hit", "stale", "miss"];

export function createContextMetrics(registry: Registry): ContextMetrics {
  const duration = new Histogram({
    name: "kefu_context_duration_seconds",
    help: "Time to answer an order context (or customer) request, by outcome",
    labelNames: ["outcome"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1, 1.5, 2.5],
    registers: [registry],
  });
  // Counted in plain numbers on the hot path (four per request) and handed to prom-client when
  // scraped: its inc() validates and hashes the labels on every call.
  const pending = PART_NAMES.map(() => RESULTS.map(() => 0));
  new Counter({
    name: "kefu_context_cache_total",
    help: "Order context cache lookups by part and result (hit: fresh, stale: served while refreshed, miss)",
    labelNames: ["part", "result"] as const,
    registers: [registry],
    collect() {
      PART_NAMES.forEach((part, p) =>
        RESULTS.forEach((result, r) => {
          const count = pending[p]![r]!;
          if (count === 0) return;
          pending[p]![r] = 0;
          this.inc({ part, result }, count);
        }),
      );
    },
  });
  return {
    observe: (outcome, seconds) => duration.observe({ outcome }, seconds),
    cacheResult: (part, result) => {
      pending[PART_NAMES.indexOf(part)]![RESULTS.indexOf(result)]! += 1;
    },
  };
}
