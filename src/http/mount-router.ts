import type { Express, RequestHandler, Router } from "express";

interface Layer {
  route?: { path: unknown };
  /** The path given to `router.use(path, …)` or `router.get(path, …)`; `/` for `router.use(fn)`. */
  rawPath?: unknown;
  handle?: object & { servedPrefixes?: unknown };
}

/** A middleware that carries its routers' layers, so that listRoutes() still sees their routes. */
export type RouterDispatch = RequestHandler & { stack: unknown[] };

/** Middleware that acts only on paths under its prefixes, and says so for {@link mountRouters}. */
export type PrefixedHandler = RequestHandler & { servedPrefixes: readonly string[] };

/**
 * Mounts feature routers, in order, as one middleware that enters a router only when the path can
 * match one of its routes. Express would otherwise walk every router, layer by layer, for every
 * request (measured in bench/http.ts and bench/sessions.ts: about a microsecond per layer passed,
 * most of the framework's cost), and a router that matches nothing hands the request on through
 * `setImmediate`: one event-loop turn per router passed. A router's `router.use` middleware counts
 * by its mount path, or by the prefixes of a {@link PrefixedHandler}; a router with any other
 * middleware is always entered.
 */
export function mountRouters(app: Express, routers: readonly Router[]): void {
  const entries = routers.map((router) => ({ router, prefixes: literalPrefixes(router.stack as readonly Layer[]) }));
  const dispatch = ((req, res, next) => {
    const path = req.path;
    const enterFrom = (index: number, error?: unknown): void => {
      // Falsy is "go on", as in express (a router left with next("router") hands back null).
      if (error) return next(error);
      for (let i = index; i < entries.length; i++) {
        const { router, prefixes } = entries[i]!;
        if (prefixes && !isUnder(path, prefixes)) continue;
        router(req, res, (routerError?: unknown) => enterFrom(i + 1, routerError));
        return;
      }
      next();
    };
    enterFrom(0);
  }) as RouterDispatch;
  dispatch.stack = routers.flatMap((router) => router.stack);
  app.use(dispatch);
}

/** `handler`, entered only for paths equal to or under one of `prefixes`. */
export function servedUnder(prefixes: readonly string[], handler: RequestHandler): PrefixedHandler {
  const guarded = ((req, res, next) => {
    if (isUnder(req.path, prefixes)) handler(req, res, next);
    else next();
  }) as PrefixedHandler;
  guarded.servedPrefixes = prefixes;
  return guarded;
}

function isUnder(path: string, prefixes: readonly string[]): boolean {
  for (const prefix of prefixes) {
    if (path.startsWith(prefix) && (path.length === prefix.length || path[prefix.length] === "/")) return true;
  }
  return false;
}

/** The literal start of each layer's path (up to its first parameter), or undefined when unsure. */
function literalPrefixes(stack: readonly Layer[]): string[] | undefined {
  const prefixes = new Set<string>();
  for (const layer of stack) {
    const declared = layer.route ? undefined : layer.handle?.servedPrefixes;
    const paths = Array.isArray(declared) ? declared : [layer.route ? layer.route.path : layer.rawPath];
    for (const path of paths) {
      const literal = typeof path === "string" ? literalStart(path) : "";
      if (literal === "") return undefined;
      prefixes.add(literal);
    }
  }
  return [...prefixes];
}

/** `/v1/plugins/:name/calls` → `/v1/plugins`; `` when the path starts with a parameter or is `/`. */
function literalStart(path: string): string {
  const literal: string[] = [];
  for (const segment of path.split("/").slice(1)) {
    if (segment === "" || /[:*{(]/.test(segment)) break;
    literal.push(segment);
  }
  return literal.length === 0 ? "" : `/${literal.join("/")}`;
}
