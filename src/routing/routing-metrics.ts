import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface RoutingMetrics {
  decisions: Counter<"business_line" | "degraded">;
  duration: Histogram;
  version: Gauge;
  reloads: Counter;
}

export function createRoutingMetrics(registry: Registry): RoutingMetrics {
  return {
    decisions: new Counter({
      name: "kefu_routing_decisions_total",
      help: "Routing decisions made on ingest, by business line and whether a plugin fact was unavailable",
      labelNames: ["business_line", "degraded"] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: "kefu_routing_decision_duration_seconds",
      help: "Time to route one event, plugin-backed facts included",
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    version: new Gauge({ name: "kefu_routing_ruleset_version", help: "Version of the routing ruleset this instance decides with", registers: [registry] }),
    reloads: new Counter({ name: "kefu_routing_ruleset_swaps_total", help: "Routing rulesets swapped in on this instance", registers: [registry] }),
  };
}
