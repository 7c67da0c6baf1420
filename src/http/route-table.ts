import type { Express, RequestHandler } from "express";
import { HubError } from "./errors.ts";

export interface RouteEntry {
  method: string;
  /** Express pattern, e.g. `/v1/plugins/:name`. */
  path: string;
}

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/**
 * The routes registered on the app, read from express itself so that no route escapes the
 * OpenAPI drift test. Feature routers are mounted at the root and declare full paths, because
 * express 5 does not keep a router's mount path as text.
 */
export function listRoutes(app: Express): RouteEntry[] {
  const routes: RouteEntry[] = [];
  const visit = (stack: Layer[]): void => {
    for (const layer of stack) {
      if (layer.route && typeof layer.route.path === "string") {
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (on && method !== "_all") routes.push({ method: method.toUpperCase(), path: layer.route.path });
        }
      } else if (layer.handle?.stack) {
        visit(layer.handle.stack);
      }
    }
  };
  visit((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return routes;
}

/** Express `/v1/plugins/:name` → OpenAPI `/v1/plugins/{name}`. */
export function toOpenApiPath(path: string): string {
  return path.replace(/:(\w+)/g, "{$1}");
}

/** The last handler: 405 with `Allow` when the path exists under another method, else 404. */
export function routeFallback(routes: () => readonly RouteEntry[]): RequestHandler {
  let compiled: { pattern: RegExp; method: string }[] | undefined;
  return (req) => {
    compiled ??= routes().map((route) => ({ pattern: toPattern(route.path), method: route.method }));
    const allowed = new Set(compiled.filter((r) => r.pattern.test(req.path)).map((r) => r.method));
    if (allowed.size > 0) {
      if (allowed.has("GET")) allowed.add("HEAD");
      const allow = [...allowed].sort().join(", ");
      throw new HubError("method_not_allowed", `${req.method} is not allowed on ${req.path}; use ${allow}`, {
        headers: { allow },
      });
    }
    throw new HubError("route_not_found", `no route ${req.method} ${req.path}; see /docs for the API`);
  };
}

function toPattern(path: string): RegExp {
  const escaped = path
    .split("/")
    .map((segment) => (segment.startsWith(":") ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${escaped}/?$`);
}
