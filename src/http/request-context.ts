import { randomUUID } from "node:crypto";
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
 * Request id, access log and duration metric in one `finish` listener: a middleware per concern
 * would add a listener and a closure each on the hot path. `req.log` is made on first use (see
 * {@link installRequestLogger}), since most requests only need the access-log line.
 */
export function requestContext({ logger, httpDuration, isDraining }: RequestContextOptions): RequestHandler {
  // The histogram's child per method, route and status, looked up once: observe({…}) hashes the
  // labels on every call. Bounded: routes are patterns, methods and statuses few.
  const children = new Map<string, { observe(value: number): void }>();
  const observe = (method: string, route: string, status: number, seconds: number): void => {
    const key = `${method} ${status} ${route}`;
    let child = children.get(key);
    if (!child) children.set(key, (child = httpDuration.labels({ method, route, status })));
    child.observe(seconds);
  };
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const incoming = req.headers["x-request-id"];
    const id = typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    req.id = id;
    res.setHeader("x-request-id", id);
    if (isDraining()) res.setHeader("connection", "close");
    res.once("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeLabel(req.baseUrl, req.route as { path?: unknown } | undefined);
      observe(req.method, route, res.statusCode, seconds);
      logger.info(
        { reqId: id, method: req.method, url: req.originalUrl, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10 },
        "request",
      );
    });
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
