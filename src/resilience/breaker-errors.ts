/** Rejection of a call that an open (or probing) breaker did not let through; the action never ran. */
export class BreakerOpenError extends Error {
  override name = "BreakerOpenError";
  readonly code = "circuit_open";
  /** The key of the breaker, as its registry was given it (a plugin method, an origin). */
  readonly key: unknown;
  /** About when the breaker lets a call through again (epoch ms): its probe, or the verdict of the probe out now. */
  readonly retryAtMs: number;

  constructor(breaker: string, key: unknown, retryAtMs: number) {
    super(`the circuit breaker ${breaker} is open`);
    this.key = key;
    this.retryAtMs = retryAtMs;
  }
}

export function isBreakerOpenError(error: unknown): error is BreakerOpenError {
  return typeof error === "object" && error !== null && (error as { name?: unknown }).name === "BreakerOpenError";
}

/** A call after the registry's `close()`: it would make a breaker nobody shuts down any more. */
export class BreakerRegistryClosedError extends Error {
  override name = "BreakerRegistryClosedError";
  readonly code = "breaker_registry_closed";

  constructor() {
    super("the breaker registry is closed");
  }
}
