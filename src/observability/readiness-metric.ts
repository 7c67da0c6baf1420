import { Gauge, type Registry } from "prom-client";
import { isReadyState } from "../hub-module.ts";
import type { ReadinessReport } from "./health-routes.ts";

/**
 * `kefu_ready` (1 ready, 0 not) and `kefu_readiness_check{check}` (1 ok or degraded-but-serving,
 * 0 failing) on each scrape, from the same report as `/readyz`: Prometheus scrapes /metrics, not
 * /readyz, and an alert on `up` alone would miss a hub that answers but cannot work (Redis gone,
 * plugins not loaded). A report is a Redis PING plus in-process state: cheap enough per scrape.
 */
export function createReadinessMetric(registry: Registry, readiness: () => Promise<ReadinessReport>): void {
  // prom-client collects a registry's metrics concurrently: both gauges share one report per scrape.
  let inFlight: Promise<ReadinessReport> | undefined;
  const report = (): Promise<ReadinessReport> => (inFlight ??= readiness().finally(() => (inFlight = undefined)));
  new Gauge({
    name: "kefu_ready",
    help: "1 when /readyz answers 200, 0 when it answers 503",
    registers: [registry],
    async collect() {
      this.set((await report()).ready ? 1 : 0);
    },
  });
  new Gauge({
    name: "kefu_readiness_check",
    help: "Each /readyz check: 1 ok (or degraded but serving), 0 failing",
    labelNames: ["check"] as const,
    registers: [registry],
    async collect() {
      const { checks } = await report();
      this.reset();
      for (const [check, state] of Object.entries(checks)) this.set({ check }, isReadyState(state) ? 1 : 0);
    },
  });
}
