import type { Express, RequestHandler, Router } from "express";

interface Layer {
  route?: { path: unknown };
}

/** A guard in front of a router; carries the router's stack so that listRoutes() still sees its routes. */
export type GuardedRouter = RequestHandler & { stack: unknown[] };

/**
 * Mounts a feature router so that a request enters it only when its path can match one of the
 * router's routes. Express would otherwise walk every router, layer by layer, for every request
 * (measured in bench/http.ts: a few microseconds per router, most of the framework's cost).
 * Routers with middleware of their own (`router.use`) are always entered.
 */
export function mountRouter(app: Express, router: Router): void {
  const prefixes = literalPrefixes(router.stack);
  if (!prefixes) {
    app.use(router);
    return;
  }
  const guard = ((req, res, next) => {
    const path = req.path;
    for (const prefix of prefixes) {
      if (path.startsWith(prefix) && (path.length === prefix.length || path[prefix.length] === "/")) {
        router(req, res, next);
        return;
      }
    }
    next();
  }) as GuardedRouter;
  guard.stack = router.stack;
  app.use(guard);
}

/** The literal start of each route path (up to its first parameter), or undefined when unsure. */
function literalPrefixes(stack: readonly Layer[]): string[] | undefined {
  const prefixes = new Set<string>();
  for (const layer of stack) {
    const path = layer.route?.path;
    if (typeof path !== "string") return undefined;
    const literal = path.split("/").slice(1).filter((segment, index, all) => all.slice(0, index + 1).every((s) => !/[:*{(]/.test(s)) && segment !== "");
    if (literal.length === 0) return undefined;
    prefixes.add(`/${literal.join("/")}`);
  }
  return [...prefixes];
}
