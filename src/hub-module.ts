import type { Router } from "express";

/**
 * What a feature folder hands to the composition root (src/app.ts): its routes, whether it is
 * ready, and how to stop it.
 */
export interface HubModule {
  readonly name: string;
  /** Declares full paths (`/v1/...`); mounted at the root. */
  readonly router?: Router;
  /** `"ok"` when ready, otherwise why not (shown by `/readyz`). */
  readiness?(): Promise<string> | string;
  /** Stops the module; called once on shutdown, after the HTTP server stopped accepting. */
  close?(): Promise<void>;
}
