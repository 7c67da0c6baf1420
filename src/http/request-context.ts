import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestHandler } from "express";
import type { Logger } from "pino";
import type { Histogram } from "prom-client";

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export interface RequestContextOptions {
  logger: Logger;
  httpDuration: Histogram<"method" | "route" | "status">;
  /** True once shutdown began: answers then carry `Connection: close` so clients stop reusing sockets. */
  isDraining: () => boolean;
}

/**
 * Starts a request's id, access-log line and duration metric; `route` names it when it finishes.
 * The duration counts from `receivedAt` when a fast route set it before reading the body.
 */
export type BeginRequest = (req: IncomingMessage & { id?: string; receivedAt?: bigint }, res: ServerResponse, route: () => string) => void;

/**
 * Request id, access log and duration metric in one `finish` listener: a middleware per concern
 * would add a listener and a closure each on the hot path. Shared by the express middleware
 * ({@link requestContext}) and the fast routes (fast-routes.ts), so that both log and count alike.
 */
export function createBeginRequest({ logger, httpDuration, isDraining }: RequestContextOptions): BeginRequest {
  // The histogram's child per method, route and status, looked up once: observe({…}) hashes the
  // labels on every call. Bounded: routes are patterns, methods and statuses few.
  const children = new Map<string, { observe(value: number): void }>();
  const observe = (method: string, route: string, status: number, seconds: number): void => {
    const key = `${method} ${status} ${route}`;
    let child = children.get(key);
    if (!child) children.set(key, (child = httpDuration.labels({ method, route, status })));
    child.observe(seconds);
  };
  return (req, res, route) => {
    const started = req.receivedAt ?? process.hrtime.bigint();
    const incoming = req.headers["x-request-id"];
    const id = typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    // The URL as it arrived: express's routers rewrite req.url while they work.
    const url = req.url;
    const method = req.method ?? "GET";
    req.id = id;
    res.setHeader("x-request-id", id);
    if (isDraining()) res.setHeader("connection", "close");
    res.once("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      observe(method, route(), res.statusCode, seconds);
      logger.info({ reqId: id, method, url, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10 }, "request");
    });
  };
}

/** The express middleware of {@link createBeginRequest}: its route label is the matched route's pattern. */
export function requestContext(begin: BeginRequest): RequestHandler {
  return (req, res, next) => {
    begin(req, res, () => routeLabel(req.baseUrl, req.route as { path?: unknown } | undefined));
    next();
  };
}

/** `req.log`: a child logger carrying `reqId`, created lazily on the app's own request prototype. */
export function installRequestLogger(requestPrototype: object, logger: Logger): void {
  const cache = new WeakMap<object, Logger>();
  Object.defineProperty(requestPrototype, "log", {
    configurable: true,
    get(this: { id: string }): Logger {
      let child = cache.get(this);
      if (!child) {
        child = logger.child({ reqId: this.id });
        cache.set(this, child);
      }
      return child;
    },
  });
}

/** The route pattern, never the raw URL, so that metric labels stay bounded. */
function routeLabel(baseUrl: string, route: { path?: unknown } | undefined): string {
  return typeof route?.path === "string" ? baseUrl + route.path : "unmatched";
}
