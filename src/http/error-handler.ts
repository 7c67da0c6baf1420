import type { ErrorRequestHandler } from "express";
import { isRedisUnavailable } from "../redis/redis-unavailable.ts";
import { isHubError, type ErrorCode } from "./errors.ts";
import { malformedParameter } from "./path-encoding.ts";
import { buildProblem, sendProblem } from "./problem.ts";

/** body-parser's error types and what the caller did wrong. */
const BODY_PARSER_ERRORS: Readonly<Record<string, { code: ErrorCode; detail: string }>> = {
  "entity.parse.failed": { code: "malformed_json", detail: "the body could not be parsed as JSON" },
  "entity.too.large": { code: "payload_too_large", detail: "the body is larger than the configured limit" },
  "parameters.too.many": { code: "payload_too_large", detail: "the form has more fields than the hub reads" },
  "encoding.unsupported": { code: "unsupported_media_type", detail: "the content encoding is not supported" },
  "charset.unsupported": { code: "unsupported_media_type", detail: "the charset is not supported; send UTF-8" },
  "request.aborted": { code: "malformed_json", detail: "the request body was cut short" },
  "request.size.invalid": { code: "malformed_json", detail: "the body length does not match Content-Length" },
};

/** Every error becomes RFC 9457 problem+json; a 5xx never shows its cause (it goes to the log). */
export function errorHandler(): ErrorRequestHandler {
  return (thrown: unknown, req, res, next) => {
    if (res.headersSent) {
      next(thrown);
      return;
    }
    const base = { instance: req.originalUrl, requestId: req.id };
    // Express's own parameter decoding, for a route pathEncodingCheck did not see.
    const error = isUriError(thrown) ? malformedParameter(undefined) : thrown;
    if (isHubError(error)) {
      if (error.status >= 500) req.log.error({ err: error, cause: error.cause }, error.message);
      const problem = buildProblem(error.code, error.message, {
        ...base,
        ...(error.options.errors ? { errors: error.options.errors } : {}),
        ...(error.options.extensions ? { extensions: error.options.extensions } : {}),
      });
      sendProblem(res, problem, error.options.headers);
      return;
    }
    const parserType = (error as { type?: unknown }).type;
    const known = typeof parserType === "string" ? BODY_PARSER_ERRORS[parserType] : undefined;
    if (known) {
      sendProblem(res, buildProblem(known.code, known.detail, base));
      return;
    }
    if (isRedisUnavailable(error)) {
      // An outage, not a bug: answered at once rather than held, so that clients retry elsewhere or later.
      req.log.warn({ err: error }, "Redis unavailable; answered 503");
      const detail = "Redis did not answer in time; the write may or may not have been stored, and retrying it (with the same event id) is safe";
      sendProblem(res, buildProblem("unavailable", detail, base), { "retry-after": "2" });
      return;
    }
    req.log.error({ err: error }, "unhandled error");
    sendProblem(res, buildProblem("internal", `something went wrong; quote request id ${req.id} when reporting it`, base));
  };
}

function isUriError(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "URIError" && (error as { status?: unknown }).status === 400;
}
