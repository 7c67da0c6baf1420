import { Counter, Histogram, type Registry } from "prom-client";

export interface PluginMetrics {
  duration: Histogram<"plugin" | "method" | "outcome">;
  restarts: Counter<"plugin" | "reason">;
}

/** The plugin host's metrics, on the hub's registry. */
export function createPluginMetrics(registry: Registry): PluginMetrics {
  return {
    duration: new Histogram({
      name: "kefu_plugin_call_duration_seconds",
      help: "Duration of plugin calls by plugin, method and outcome (ok, not_found, error, invalid, timeout, unavailable)",
      labelNames: ["plugin", "method", "outcome"] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    restarts: new Counter({
      name: "kefu_plugin_restarts_total",
      help: "Plugin isolates replaced, by plugin and reason (memory, timeout, runner_crash, reload)",
      labelNames: ["plugin", "reason"] as const,
      registers: [registry],
    }),
  };
}
