import type { BreakerStateMetric } from "../observability/breaker-state-metric.ts";
import { createBreakerRegistry, type BreakerRegistry, type BreakerSettings, type BreakerState } from "../resilience/breaker-registry.ts";

/** The key of a plugin-side breaker: one per method of a plugin. */
export interface PluginMethod {
  plugin: string;
  method: string;
}

export type PluginBreakers = BreakerRegistry<PluginMethod>;

export interface PluginBreakersOptions {
  /** @defaultValue the registry's defaults (docs/order-context.md) */
  settings?: Partial<BreakerSettings>;
  /** `kefu_breaker_state`: the breakers report labelled plugin and method; none when omitted. */
  metric?: BreakerStateMetric;
  onStateChange?: (key: PluginMethod, state: BreakerState) => void;
}

/** The breakers between the order context and the plugins, one per plugin method. */
export function createPluginBreakers({ settings, metric, onStateChange }: PluginBreakersOptions = {}): PluginBreakers {
  return createBreakerRegistry<PluginMethod>({
    ...(settings ? { settings } : {}),
    ...(onStateChange ? { onStateChange } : {}),
    // A pair, not `${plugin}.${method}`, so that names containing dots cannot collide.
    idOf: ({ plugin, method }) => JSON.stringify([plugin, method]),
    // Plugin methods are few, and `GET /v1/plugins` shows every method called since the start.
    idleMs: 0,
    ...(metric ? { metric: { gauge: metric, labels: ({ plugin, method }: PluginMethod) => ({ plugin, method }) } } : {}),
  });
}

/** The states of one plugin's methods, for `GET /v1/plugins`. */
export function breakerStatesOf(breakers: PluginBreakers, plugin: string): Record<string, BreakerState> {
  return Object.fromEntries(breakers.list().flatMap(({ key, state }) => (key.plugin === plugin ? [[key.method, state]] : [])));
}
