import type { RequestHandler, Router } from "express";

/**
 * A router whose routes stay out of the route table (route-table.ts `listRoutes`): the admin's
 * HTML pages and bull-board are not API operations, so they are described in docs/operations.md
 * rather than in openapi/, as /docs and /demo are. Entered only for paths under `prefixes`.
 */
export function hiddenRouter(router: Router, prefixes: readonly string[]): RequestHandler {
  return (req, res, next) => {
    const path = req.path;
    if (prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) router(req, res, next);
    else next();
  };
}
