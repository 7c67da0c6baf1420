import type { IncomingMessage, ServerResponse } from "node:http";
import express, { type RequestHandler } from "express";
import { HubError } from "./errors.ts";
import { tooDeep } from "./json-depth.ts";

const JSON_TYPES = ["application/json", "application/*+json"];
const FORM_TYPE = "application/x-www-form-urlencoded";

/**
 * Parses a JSON body; 415 for a body that is not JSON (express.json() alone would skip it
 * silently and the caller would get a confusing "body required"). Requests without a body — most
 * of them — pass straight through, without entering the parser.
 */
export interface JsonBodyOptions {
  /** Largest body, e.g. `1mb`. */
  limit: string;
  /**
   * How deep arrays and objects may nest (the body itself is level 1). A deeper body is 400
   * before anything walks it recursively (JSON.stringify overflows the stack at ~10k). @defaultValue 64
   */
  maxDepth?: number;
  /** Paths starting with one of these keep their body unread, for a route that reads the raw bytes (inbound webhooks). @defaultValue [] */
  rawPathPrefixes?: readonly string[];
  /**
   * Paths (exact) that also take an HTML form (`application/x-www-form-urlencoded`), parsed into
   * flat string fields: the browser sign-in works without JavaScript. @defaultValue none
   */
  formPaths?: ReadonlySet<string>;
  /** The JSON reading, when a fast route shares it (create-http-app.ts). @defaultValue one made from `limit` and `maxDepth` */
  read?: JsonBodyReader;
}

/** Reads and parses a JSON body into `req.body`; `done` gets the error to answer, if any. */
export type JsonBodyReader = (req: IncomingMessage, res: ServerResponse, done: (error?: unknown) => void) => void;

/**
 * The JSON parsing of {@link jsonBody}, for a fast route (fast-routes.ts) that reads a body before
 * express does: body-parser within the limit, decompression errors named, the depth bounded.
 */
export function createJsonBodyReader({ limit, maxDepth = 64 }: Pick<JsonBodyOptions, "limit" | "maxDepth">): JsonBodyReader {
  const parse = express.json({ limit, type: JSON_TYPES });
  return (req, res, done) => {
    // body-parser's middleware takes node's own request and response.
    parse(req, res, (error?: unknown) => {
      if (error !== undefined) {
        done(isDecompressionError(error, req.headers["content-encoding"]) ? malformedContentEncoding(req.headers["content-encoding"] ?? "") : error);
        return;
      }
      const pointer = tooDeep((req as { body?: unknown }).body, maxDepth);
      if (pointer === undefined) {
        done();
        return;
      }
      const message = `nests deeper than ${maxDepth} levels of arrays and objects`;
      done(new HubError("validation_failed", `the body is invalid: ${pointer || "/"} ${message}`, { errors: [{ pointer, message }] }));
    });
  };
}

const READ_ALREADY = Symbol("kefu.body-read-already");

/**
 * Hands a request whose body a fast route read to express: {@link jsonBody} then passes on the
 * reading's error, or goes on with `req.body` as read (the stream is spent, so it reads nothing).
 */
export function handOverBody(req: IncomingMessage, outcome: { error?: unknown }): void {
  (req as { [READ_ALREADY]?: { error?: unknown } })[READ_ALREADY] = outcome;
}

export function jsonBody({ limit, maxDepth = 64, rawPathPrefixes = [], formPaths = new Set(), read = createJsonBodyReader({ limit, maxDepth }) }: JsonBodyOptions): RequestHandler {
  // Forms carry a key and a token or two: a small limit and few fields, flat (no qs nesting).
  const parseForm = express.urlencoded({ extended: false, limit: "16kb", parameterLimit: 20, type: FORM_TYPE });
  return (req, res, next) => {
    const readAlready = (req as { [READ_ALREADY]?: { error?: unknown } })[READ_ALREADY];
    if (readAlready) {
      next(readAlready.error);
      return;
    }
    const hasBody = req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
    if (!hasBody || rawPathPrefixes.some((prefix) => req.path.startsWith(prefix))) {
      next();
      return;
    }
    if (formPaths.has(req.path) && req.is(FORM_TYPE)) {
      parseForm(req, res, next);
      return;
    }
    if (!req.is(JSON_TYPES)) {
      const sent = req.headers["content-type"] ?? "no content type";
      throw new HubError("unsupported_media_type", `send the body as application/json, not ${sent}`);
    }
    read(req, res, next);
  };
}

/**
 * body-parser passes zlib's own error (status 400, no `type`) when a gzip, deflate, br or zstd body
 * does not decompress; the error handler would see an unknown error and answer 500.
 */
function isDecompressionError(error: unknown, contentEncoding: string | undefined): boolean {
  if (typeof error !== "object" || error === null || contentEncoding === undefined || contentEncoding.toLowerCase() === "identity") return false;
  return (error as { type?: unknown }).type === undefined && typeof (error as { errno?: unknown }).errno === "number";
}

function malformedContentEncoding(contentEncoding: string): HubError {
  const name = contentEncoding.slice(0, 40);
  return new HubError("malformed_content_encoding", `the body is not valid ${name} data (Content-Encoding: ${name}); send it compressed as declared, or without Content-Encoding`);
}
