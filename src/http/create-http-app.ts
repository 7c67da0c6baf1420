import type { RequestListener } from "node:http";
import express, { type Express, type Router } from "express";
import type { Logger } from "pino";
import type { HubMetrics } from "../observability/metrics.ts";
import { healthRoutes, type ReadinessReport } from "../observability/health-routes.ts";
import { docsRoutes } from "./docs-routes.ts";
import { errorHandler } from "./error-handler.ts";
import { createJsonBodyReader, jsonBody } from "./json-body.ts";
import { mountRouters } from "./mount-router.ts";
import type { OpenApiDocument } from "./openapi-document.ts";
import { pathEncodingCheck } from "./path-encoding.ts";
import { withFastRoutes, type FastBodyRoute, type FastRoute } from "./fast-routes.ts";
import { createBeginRequest, installRequestLogger, requestContext } from "./request-context.ts";
import { listRoutes, routeFallback, type RouteEntry } from "./route-table.ts";

export interface HttpAppOptions {
  logger: Logger;
  metrics: HubMetrics;
  openapi: OpenApiDocument;
  /** Largest JSON body, e.g. `1mb`. */
  bodyLimit: string;
  /** Paths whose routes read the raw body themselves (see json-body.ts). @defaultValue [] */
  rawBodyPrefixes?: readonly string[];
  /** Feature routers; each declares full paths (see route-table.ts). */
  routers: readonly Router[];
  /** Reads answered before express when they can be (fast-routes.ts); each is also a route of `routers`. @defaultValue none */
  fastRoutes?: readonly FastRoute[];
  /** Writes answered before express when they can be (fast-routes.ts); each is also a route of `routers`. @defaultValue none */
  fastWrites?: readonly FastBodyRoute[];
  /** Paths that also take `application/x-www-form-urlencoded` bodies (HTML forms). @defaultValue none */
  formPaths?: readonly string[];
  readiness: () => Promise<ReadinessReport>;
  isDraining: () => boolean;
}

export interface HttpApp {
  /** The express app: every route, and what the fast routes decline. */
  app: Express;
  /** The HTTP server's request listener: the fast routes, then `app`. */
  listener: RequestListener;
}

export function createHttpApp(options: HttpAppOptions): HttpApp {
  const app = express();
  // Measured in bench/http.ts: etag hashing and x-powered-by cost throughput and give callers nothing.
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("query parser", "simple");
  installRequestLogger(app.request, options.logger);

  let routes: RouteEntry[] | undefined;
  const knownRoutes = (): RouteEntry[] => (routes ??= listRoutes(app));
  const begin = createBeginRequest({ logger: options.logger, httpDuration: options.metrics.httpDuration, isDraining: options.isDraining });
  app.use(requestContext(begin));
  app.use(pathEncodingCheck(knownRoutes));
  // One JSON reading for express and the fast writes, so that both parse a body alike.
  const readBody = createJsonBodyReader({ limit: options.bodyLimit });
  app.use(jsonBody({ limit: options.bodyLimit, read: readBody, formPaths: new Set(options.formPaths ?? []), ...(options.rawBodyPrefixes ? { rawPathPrefixes: options.rawBodyPrefixes } : {}) }));
  mountRouters(app, [healthRoutes({ readiness: options.readiness, metrics: options.metrics.registry }), ...options.routers]);
  // Last: its static-file middleware is entered by every request that reaches it.
  app.use(docsRoutes(options.openapi));

  app.use(routeFallback(knownRoutes));
  app.use(errorHandler());
  return { app, listener: withFastRoutes({ reads: options.fastRoutes ?? [], writes: options.fastWrites ?? [], readBody, begin }, app) };
}
