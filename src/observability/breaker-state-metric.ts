import { Gauge, type Registry } from "prom-client";

/** A breaker's state in the gauge's vocabulary (sources with other spellings map to it). */
export type BreakerStateValue = "closed" | "halfOpen" | "open";

/** One breaker as a source reports it; the labels it does not have are exported as "". */
export interface BreakerStateSample {
  plugin?: string;
  method?: string;
  origin?: string;
  state: BreakerStateValue;
}

/** Lists the current states of one family of breakers; asked on every scrape. */
export type BreakerStateSource = () => readonly BreakerStateSample[];

/** `kefu_breaker_state{plugin,method,origin}`, shared by every kind of circuit breaker in the hub. */
export interface BreakerStateMetric {
  addSource(list: BreakerStateSource): void;
}

const STATE_VALUE: Record<BreakerStateValue, number> = { closed: 0, halfOpen: 1, open: 2 };

/**
 * One gauge for the plugin-method breakers and the webhook-origin breakers alike: prom-client
 * refuses a name registered twice on one registry, and dashboards want a single metric. It reads
 * the sources when scraped instead of being pushed to, so it can never disagree with the breakers
 * and a breaker that is gone (a closed registry) disappears from it.
 */
export function createBreakerStateMetric(registry: Registry): BreakerStateMetric {
  const sources: BreakerStateSource[] = [];
  new Gauge({
    name: "kefu_breaker_state",
    help: "Circuit breaker state: 0 closed, 1 half-open (probing), 2 open. Plugin-method breakers carry plugin and method (origin empty); webhook receiver breakers carry origin (plugin and method empty)",
    labelNames: ["plugin", "method", "origin"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const list of sources) {
        for (const { plugin = "", method = "", origin = "", state } of list()) this.set({ plugin, method, origin }, STATE_VALUE[state]);
      }
    },
  });
  return {
    addSource(list) {
      sources.push(list);
    },
  };
}
