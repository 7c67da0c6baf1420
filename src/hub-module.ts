import type { Router } from "express";
import type { FastBodyRoute, FastRoute } from "./http/fast-routes.ts";

/**
 * What a feature folder hands to the composition root (src/app.ts): its routes, whether it is
 * ready, and how to stop it.
 */
export interface HubModule {
  readonly name: string;
  /** Declares full paths (`/v1/...`); mounted at the root. */
  readonly router?: Router;
  /** Hot reads of `router` that may be answered before express (src/http/fast-routes.ts). */
  readonly fastRoutes?: readonly FastRoute[];
  /** Hot writes of `router` that may be answered before express (src/http/fast-routes.ts). */
  readonly fastWrites?: readonly FastBodyRoute[];
  /**
   * `"ok"` when ready; {@link degradedState} when it serves but part of it does not work (the hub
   * stays ready and `/readyz` shows why); otherwise why it is not ready.
   */
  readiness?(): Promise<string> | string;
  /** Stops the module; called once on shutdown, after the HTTP server stopped accepting. */
  close?(): Promise<void>;
  /** What the module holds in process memory, store by store, for /godmode. Cheap: called every second while watched. */
  memoryReport?(): readonly StoreMemory[];
}

/** One in-process store of a module: how many entries, and about how many bytes. */
export interface StoreMemory {
  /** e.g. `order-context cache`. */
  store: string;
  entries: number;
  bytes: number;
  /** True when `bytes` is extrapolated or a per-entry allowance rather than counted. */
  estimated: boolean;
}

const DEGRADED = "degraded: ";

/** A readiness state that keeps the hub ready while saying what does not work. */
export function degradedState(why: string): string {
  return `${DEGRADED}${why}`;
}

/** Whether a readiness state lets the hub take traffic: `ok`, or degraded. */
export function isReadyState(state: string): boolean {
  return state === "ok" || state.startsWith(DEGRADED);
}
