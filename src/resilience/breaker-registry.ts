import CircuitBreaker from "opossum";
import type { BreakerStateMetric } from "../observability/breaker-state-metric.ts";

export type BreakerState = "closed" | "open" | "halfOpen";

export interface BreakerSettings {
  /** Calls within the rolling window before the error rate may open the breaker. @defaultValue 10 */
  volumeThreshold: number;
  /** Error rate (percent of calls in the window) above which the breaker opens. @defaultValue 50 */
  errorThresholdPercentage: number;
  /** How long an open breaker rejects calls before letting one probe through (half-open). @defaultValue 10000 */
  resetTimeoutMs: number;
  /** Length of the rolling window the error rate is computed over. @defaultValue 10000 */
  rollingWindowMs: number;
}

/** Rejection of a call that an open (or probing) breaker did not let through. */
export class BreakerOpenError extends Error {
  override name = "BreakerOpenError";
  readonly code = "circuit_open";
  readonly plugin: string;
  readonly method: string;

  constructor(plugin: string, method: string) {
    super(`the circuit breaker of ${plugin}.${method} is open`);
    this.plugin = plugin;
    this.method = method;
  }
}

export function isBreakerOpenError(error: unknown): error is BreakerOpenError {
  return typeof error === "object" && error !== null && (error as { name?: unknown }).name === "BreakerOpenError";
}

export interface BreakerSnapshot {
  plugin: string;
  method: string;
  state: BreakerState;
}

/** One opossum breaker per plugin method, made on first use. */
export interface BreakerRegistry {
  /** Runs `action` through the breaker of `plugin.method`; rejects with {@link BreakerOpenError} at once while open. */
  fire<T>(plugin: string, method: string, action: () => Promise<T>): Promise<T>;
  /** `closed` for a method never called. */
  state(plugin: string, method: string): BreakerState;
  /** The states of one plugin's methods, for `GET /v1/plugins`. */
  statesFor(plugin: string): Record<string, BreakerState>;
  list(): BreakerSnapshot[];
  /** Stops every breaker's timers. Idempotent. */
  close(): void;
}

export interface BreakerRegistryOptions {
  settings: BreakerSettings;
  /** `kefu_breaker_state`: this registry adds its breakers (labelled plugin and method) as a source; none when omitted. */
  metric?: BreakerStateMetric;
  onStateChange?: (snapshot: BreakerSnapshot) => void;
}

type Action = () => Promise<unknown>;
interface Entry {
  plugin: string;
  method: string;
  breaker: CircuitBreaker<[Action], unknown>;
}

export function createBreakerRegistry({ settings, metric, onStateChange }: BreakerRegistryOptions): BreakerRegistry {
  // Keyed by a pair, not `${plugin}.${method}`, so that names containing dots cannot collide.
  const entries = new Map<string, Map<string, Entry>>();

  const entryFor = (plugin: string, method: string): Entry => {
    let methods = entries.get(plugin);
    if (!methods) entries.set(plugin, (methods = new Map<string, Entry>()));
    let entry = methods.get(method);
    if (!entry) {
      entry = { plugin, method, breaker: createBreaker(`${plugin}.${method}`, settings) };
      const snapshot = (): BreakerSnapshot => ({ plugin, method, state: stateOf(entry!.breaker) });
      const report = (): void => onStateChange?.(snapshot());
      entry.breaker.on("open", report);
      entry.breaker.on("halfOpen", report);
      entry.breaker.on("close", report);
      methods.set(method, entry);
    }
    return entry;
  };

  const list = (): BreakerSnapshot[] =>
    [...entries.values()].flatMap((methods) =>
      [...methods.values()].map(({ plugin, method, breaker }) => ({ plugin, method, state: stateOf(breaker) })),
    );

  metric?.addSource(list);

  let closed = false;
  return {
    async fire<T>(plugin: string, method: string, action: () => Promise<T>): Promise<T> {
      const { breaker } = entryFor(plugin, method);
      try {
        return (await breaker.fire(action)) as T;
      } catch (error) {
        if ((error as { code?: unknown }).code === "EOPENBREAKER") throw new BreakerOpenError(plugin, method);
        throw error;
      }
    },
    state: (plugin, method) => {
      const entry = entries.get(plugin)?.get(method);
      return entry ? stateOf(entry.breaker) : "closed";
    },
    statesFor: (plugin) =>
      Object.fromEntries([...(entries.get(plugin)?.values() ?? [])].map(({ method, breaker }) => [method, stateOf(breaker)])),
    list,
    close() {
      if (closed) return;
      closed = true;
      for (const methods of entries.values()) for (const { breaker } of methods.values()) breaker.shutdown();
    },
  };
}

function createBreaker(name: string, settings: BreakerSettings): CircuitBreaker<[Action], unknown> {
  return new CircuitBreaker<[Action], unknown>((action) => action(), {
    name,
    // Callers bound their own waits (part timeouts); a late answer is still wanted for the cache,
    // and the plugin host times out calls that never end, which then counts as a failure here.
    timeout: false,
    volumeThreshold: settings.volumeThreshold,
    errorThresholdPercentage: settings.errorThresholdPercentage,
    resetTimeout: settings.resetTimeoutMs,
    rollingCountTimeout: settings.rollingWindowMs,
    rollingCountBuckets: 10,
    // Percentiles cost a sort per bucket and nobody reads them here.
    rollingPercentilesEnabled: false,
  });
}

function stateOf(breaker: CircuitBreaker<[Action], unknown>): BreakerState {
  if (breaker.opened) return "open";
  if (breaker.halfOpen) return "halfOpen";
  return "closed";
}
