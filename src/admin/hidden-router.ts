import type { Router } from "express";
import { servedUnder, type PrefixedHandler } from "../http/mount-router.ts";

/**
 * A router whose routes stay out of the route table (route-table.ts `listRoutes`): the admin's
 * HTML pages and bull-board are not API operations, so they are described in docs/operations.md
 * rather than in openapi/, as /docs and /demo are. Entered only for paths under `prefixes`.
 */
export function hiddenRouter(router: Router, prefixes: readonly string[]): PrefixedHandler {
  // The wrapper servedUnder makes has no `stack`: listRoutes does not look inside.
  return servedUnder(prefixes, router);
}
