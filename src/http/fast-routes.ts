import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { handOverBody, type JsonBodyReader } from "./json-body.ts";
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

/**
 * A write served without express: `POST /v1/events`, the hub's hottest route (express's layers
 * were about a tenth of the hub's CPU per delivered event, bench/delivery.ts). It takes a request
 * by its headers, reads the body as express would (json-body.ts), and answers only what it
 * accepts; a body it declines, and any error, go on to express with the body already read, so
 * that every error is answered by the one error handler.
 */
export interface FastBodyRoute {
  /** The express pattern of the same route, for the access log and the duration metric. */
  readonly route: string;
  /** POSTs to exactly this URL (no query) are offered. */
  readonly url: string;
  /** From the headers alone (the key and its scope), whether to read the body here. */
  takes(req: IncomingMessage): boolean;
  /** How to answer the parsed body, or undefined to leave it to express. What it throws, express answers. */
  answer(body: unknown): Promise<((res: ServerResponse) => void) | undefined>;
}

export interface FastRoutes {
  reads?: readonly FastRoute[];
  writes?: readonly FastBodyRoute[];
  /** How a write's body is read: express's own JSON reading (json-body.ts). */
  readBody: JsonBodyReader;
  begin: BeginRequest;
}

/** The HTTP server's listener: a fast route's answer when one has it, express otherwise. */
export function withFastRoutes({ reads = [], writes = [], readBody, begin }: FastRoutes, app: RequestListener): RequestListener {
  if (reads.length === 0 && writes.length === 0) return app;
  const writeAt = new Map(writes.map((route) => [route.url, route]));

  const serveWrite = (route: FastBodyRoute, req: IncomingMessage & { receivedAt?: bigint }, res: ServerResponse): void => {
    // The access log and duration metric count from here, also when express answers in the end.
    req.receivedAt = process.hrtime.bigint();
    const toExpress = (error?: unknown): void => {
      handOverBody(req, error === undefined ? {} : { error });
      app(req, res);
    };
    readBody(req, res, (error) => {
      if (error !== undefined) {
        toExpress(error);
        return;
      }
      route.answer((req as { body?: unknown }).body).then((send) => {
        if (!send) {
          toExpress();
          return;
        }
        begin(req, res, () => route.route);
        send(res);
      }, toExpress);
    });
  };

  return (req, res) => {
    if (req.method === "GET") {
      const url = req.url ?? "";
      for (const route of reads) {
        if (!url.startsWith(route.urlPrefix)) continue;
        const send = route.answer(req);
        if (!send) break;
        begin(req, res, () => route.route);
        send(res);
        return;
      }
    } else if (req.method === "POST") {
      const route = writeAt.get(req.url ?? "");
      if (route && isPlainJson(req) && route.takes(req)) {
        serveWrite(route, req, res);
        return;
      }
    }
    app(req, res);
  };
}

/** JSON as sent by nearly every client: anything else (a form, gzip, another charset) goes to express as it is. */
function isPlainJson(req: IncomingMessage): boolean {
  const type = req.headers["content-type"];
  if (req.headers["content-encoding"] !== undefined) return false;
  return type === "application/json" || type === "application/json; charset=utf-8" || type === "application/json;charset=utf-8";
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
