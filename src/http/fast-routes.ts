import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { BeginRequest } from "./request-context.ts";

/**
 * A read served without express, for the few hot reads the hub promises at memory speed
 * (`GET /v1/sessions/{id}`: express's routing was half of that answer's cost, bench/sessions.ts).
 * It serves only the plain success case; anything else — a bad or missing key, an encoded path, a
 * query, an entry not in memory — it declines, untouched, and express answers it as it answers
 * every route, errors included.
 */
export interface FastRoute {
  /** The express pattern of the same route: the access log and the duration metric name it so. */
  readonly route: string;
  /** Requests whose URL starts with this (and only GETs) are offered to {@link FastRoute.answer}. */
  readonly urlPrefix: string;
  /** How to answer, or undefined to leave the request to express. Must not touch `req`. */
  answer(req: IncomingMessage): ((res: ServerResponse) => void) | undefined;
}

/** The HTTP server's listener: a fast route's answer when one has it, express otherwise. */
export function withFastRoutes(routes: readonly FastRoute[], begin: BeginRequest, app: RequestListener): RequestListener {
  if (routes.length === 0) return app;
  return (req, res) => {
    if (req.method === "GET") {
      const url = req.url ?? "";
      for (const route of routes) {
        if (!url.startsWith(route.urlPrefix)) continue;
        const send = route.answer(req);
        if (!send) break;
        begin(req, res, () => route.route);
        send(res);
        return;
      }
    }
    app(req, res);
  };
}

/**
 * The path parameter after `prefix` when the URL is exactly `prefix` + one plain segment: no
 * further `/`, no query, no percent-encoding (express decodes those, and answers the bad ones).
 */
export function plainSegmentAfter(url: string, prefix: string): string | undefined {
  const segment = url.slice(prefix.length);
  if (segment === "" || /[/?%#]/.test(segment)) return undefined;
  return segment;
}
