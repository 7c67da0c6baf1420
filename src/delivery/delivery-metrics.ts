import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface DeliveryMetrics {
  deliveries: Counter<"outcome" | "priority">;
  latency: Histogram<"priority">;
  queueJobs: Gauge<"state" | "priority">;
}

export interface QueueSample {
  state: string;
  priority: string;
  count: number;
}

/**
 * Registered on the hub's registry (never the global one: tests run several hubs per process).
 * `sampleQueue` is asked for the job counts when Prometheus scrapes. The origin breakers are in
 * the hub-wide `kefu_breaker_state` (src/observability/breaker-state-metric.ts), not here.
 */
export function createDeliveryMetrics(registry: Registry, sampleQueue: () => Promise<QueueSample[]>): DeliveryMetrics {
  return {
    deliveries: new Counter({
      name: "kefu_deliveries_total",
      help: "Delivery attempts by outcome (delivered, retry, dead_letter, delayed_breaker, delayed_rate_limit, skipped) and the event's priority",
      labelNames: ["outcome", "priority"] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: "kefu_delivery_latency_seconds",
      help: "From an event's acceptance (202) to its receiver's 2xx, by the event's priority",
      labelNames: ["priority"] as const,
      buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3600, 36000],
      registers: [registry],
    }),
    queueJobs: new Gauge({
      name: "kefu_queue_jobs",
      help: "Delivery jobs by state (and by priority while waiting), sampled when scraped",
      labelNames: ["state", "priority"] as const,
      registers: [registry],
      async collect() {
        try {
          const samples = await sampleQueue();
          this.reset();
          for (const { state, priority, count } of samples) this.set({ state, priority }, count);
        } catch {
          // Redis unreachable during a scrape: keep the last values rather than failing /metrics.
        }
      },
    }),
  };
}
