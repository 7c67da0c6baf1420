import { EventEmitter } from "node:events";
import { LRUCache } from "lru-cache";
import CircuitBreaker from "opossum";
import type { BreakerStateMetric, BreakerStateSample } from "../observability/breaker-state-metric.ts";
import { BreakerOpenError, BreakerRegistryClosedError } from "./breaker-errors.ts";

/** One vocabulary for every breaker in the hub: `kefu_breaker_state`'s, and what the APIs show. */
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

export const DEFAULT_BREAKER_SETTINGS: Readonly<BreakerSettings> = Object.freeze({
  volumeThreshold: 10,
  errorThresholdPercentage: 50,
  resetTimeoutMs: 10_000,
  rollingWindowMs: 10_000,
});

/** A breaker's labels in `kefu_breaker_state` (plugin and method, or origin); the state is added. */
export type BreakerLabels = Omit<BreakerStateSample, "state">;

export interface BreakerRegistryOptions<K> {
  /** Shared by every breaker of the registry. @defaultValue {@link DEFAULT_BREAKER_SETTINGS}, field by field */
  settings?: Partial<BreakerSettings>;
  /** The map key of a key: distinct keys must give distinct strings. @defaultValue `String(key)` */
  idOf?: (key: K) => string;
  /**
   * Breakers kept at most. Past it the least recently used one is shut down and forgotten: a later
   * call for its key starts a new, closed breaker. @defaultValue 1000
   */
  maxBreakers?: number;
  /**
   * A breaker not called for this long is shut down and forgotten, so that keys nobody uses any
   * more (receiver origins) leave the registry and the gauge. Never less than `resetTimeoutMs +
   * rollingWindowMs`: by then an open breaker would be probing and its window would be empty, so
   * forgetting it changes little. 0 keeps breakers until `maxBreakers` pushes them out. @defaultValue 600000
   */
  idleMs?: number;
  /** Told of every transition of every breaker (logging). */
  onStateChange?: (key: K, state: BreakerState) => void;
  /** `kefu_breaker_state`: the registry adds its breakers as a source, each labelled by `labels`; none when omitted. */
  metric?: { gauge: BreakerStateMetric; labels: (key: K) => BreakerLabels };
  /** Epoch milliseconds, for idle ages and `retryAtMs`; never 0 (lru-cache reads a start time of 0 as "no age"). @defaultValue Date.now */
  now?: () => number;
}

export interface FireOptions<T> {
  /**
   * An answer that counts against the breaker although the action resolved (an HTTP 503). `fire`
   * still resolves with it: the caller wants the answer, the breaker only the verdict.
   */
  isFailure?: (value: T) => boolean;
}

export interface BreakerEntry<K> {
  key: K;
  state: BreakerState;
}

/** Opossum breakers made on first use, one per key, bounded in number and idle age. */
export interface BreakerRegistry<K> {
  /**
   * Runs `action` through the key's breaker. While the breaker is open (or its one probe is out)
   * rejects at once with {@link BreakerOpenError}, without running it; the action's own errors
   * pass through unchanged.
   */
  fire<T>(key: K, action: () => Promise<T>, options?: FireOptions<T>): Promise<T>;
  /** `closed` for a key never called, or forgotten. */
  state(key: K): BreakerState;
  /** Every breaker kept, most recently used first. */
  list(): BreakerEntry<K>[];
  /** Breakers kept (idle ones count until they are swept, at the latest one bucket of the window later). */
  readonly size: number;
  /** Shuts every breaker down; a later `fire` rejects with {@link BreakerRegistryClosedError}. Idempotent. */
  close(): void;
}

type Action = () => Promise<unknown>;
type Breaker = CircuitBreaker<[Action], unknown>;

interface Entry<K> {
  key: K;
  breaker: Breaker;
  openedAt: number;
}

const BUCKETS = 10;
/** Callers turned away while a probe is out come back after at most this long for its verdict. */
const PROBE_VERDICT_MS = 1000;
/** An open breaker whose reset time has just passed still asks callers to wait a little. */
const MIN_RETRY_MS = 50;
const DEFAULT_IDLE_MS = 600_000;

/** Wraps an answer that counts as a failure, so that opossum sees a rejection; unwrapped by `fire`. */
class CountedFailure extends Error {
  override name = "CountedFailure";
  readonly value: unknown;
  constructor(value: unknown) {
    super("counted as a failure");
    this.value = value;
  }
}

export function createBreakerRegistry<K>(options: BreakerRegistryOptions<K> = {}): BreakerRegistry<K> {
  const settings: BreakerSettings = { ...DEFAULT_BREAKER_SETTINGS, ...options.settings };
  const { idOf = String, maxBreakers = 1000, onStateChange, metric, now = Date.now } = options;
  const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  const keptMs = idleMs > 0 ? Math.max(idleMs, settings.resetTimeoutMs + settings.rollingWindowMs) : 0;

  const breakers = new LRUCache<string, Entry<K>>({
    max: maxBreakers,
    // No autopurge: it would re-arm a timer on every call. Idle breakers are swept on the bucket tick.
    ...(keptMs > 0 ? { ttl: keptMs, updateAgeOnGet: true, ttlResolution: 0, perf: { now } } : {}),
    // Evicted, idle, or the registry closing: its timers go with it.
    dispose: (entry) => entry.breaker.shutdown(),
  });

  // One timer for the registry's rolling windows instead of two per breaker (opossum's default):
  // with a breaker per receiver origin, that is thousands of timers.
  const rotation = new EventEmitter();
  rotation.setMaxListeners(0);
  const ticker = setInterval(
    () => {
      rotation.emit("rotate");
      if (keptMs > 0) breakers.purgeStale();
    },
    Math.max(1, Math.floor(settings.rollingWindowMs / BUCKETS)),
  );
  ticker.unref();

  const entryOf = (key: K): Entry<K> => {
    const id = idOf(key);
    const found = breakers.get(id);
    if (found) return found;
    const entry: Entry<K> = { key, breaker: createBreaker(id, settings, rotation), openedAt: 0 };
    entry.breaker.on("open", () => {
      entry.openedAt = now();
      onStateChange?.(key, "open");
    });
    if (onStateChange) {
      entry.breaker.on("halfOpen", () => onStateChange(key, "halfOpen"));
      entry.breaker.on("close", () => onStateChange(key, "closed"));
    }
    breakers.set(id, entry);
    return entry;
  };

  const retryAtOf = ({ breaker, openedAt }: Entry<K>): number =>
    breaker.halfOpen ? now() + Math.min(PROBE_VERDICT_MS, settings.resetTimeoutMs) : Math.max(openedAt + settings.resetTimeoutMs, now() + MIN_RETRY_MS);

  const list = (): BreakerEntry<K>[] => [...breakers.values()].map(({ key, breaker }) => ({ key, state: stateOf(breaker) }));

  if (metric) metric.gauge.addSource(() => list().map(({ key, state }) => ({ ...metric.labels(key), state })));

  let closed = false;
  return {
    async fire<T>(key: K, action: () => Promise<T>, { isFailure }: FireOptions<T> = {}): Promise<T> {
      if (closed) throw new BreakerRegistryClosedError();
      const entry = entryOf(key);
      const run: Action = isFailure
        ? async () => {
            const value = await action();
            if (isFailure(value)) throw new CountedFailure(value);
            return value;
          }
        : action;
      try {
        return (await entry.breaker.fire(run)) as T;
      } catch (error) {
        // instanceof, not a name: the class is private to this module and never crosses a boundary.
        if (error instanceof CountedFailure) return error.value as T;
        if (error instanceof Error && CircuitBreaker.isOurError(error) && (error as { code?: unknown }).code === "EOPENBREAKER") {
          throw new BreakerOpenError(idOf(key), key, retryAtOf(entry));
        }
        throw error;
      }
    },
    state(key) {
      // peek: reading a state (an API view, a scrape) must not keep an idle breaker alive.
      const entry = breakers.peek(idOf(key));
      return entry ? stateOf(entry.breaker) : "closed";
    },
    list,
    get size() {
      return breakers.size;
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(ticker);
      breakers.clear();
    },
  };
}

function createBreaker(name: string, settings: BreakerSettings, rotation: EventEmitter): Breaker {
  return new CircuitBreaker<[Action], unknown>((action) => action(), {
    name,
    // Callers bound their own waits (the plugin host's call timeout, the sender's request timeout),
    // and a late answer can still be wanted (it fills the context cache); a call that never ends is
    // failed by its caller's timeout, which then counts here.
    timeout: false,
    volumeThreshold: settings.volumeThreshold,
    errorThresholdPercentage: settings.errorThresholdPercentage,
    resetTimeout: settings.resetTimeoutMs,
    rollingCountTimeout: settings.rollingWindowMs,
    rollingCountBuckets: BUCKETS,
    rotateBucketController: rotation,
    // Only the open/closed decision is used. With percentiles on, opossum keeps every latency of the
    // window and sorts them all on each failure; snapshots are a timer per breaker nobody listens to.
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
  });
}

function stateOf(breaker: Breaker): BreakerState {
  if (breaker.opened) return "open";
  if (breaker.halfOpen) return "halfOpen";
  return "closed";
}
