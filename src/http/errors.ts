import type { FieldError } from "../schemas/schema-registry.ts";

/**
 * Every error code the API answers, with its HTTP status and title. The one copy of the truth:
 * docs/errors.md and the OpenAPI `ErrorCode` enum are tested against it.
 */
export const ERROR_CODES = {
  malformed_json: { status: 400, title: "The request body is not valid JSON" },
  malformed_encoding: { status: 400, title: "A path parameter is not valid percent-encoded UTF-8" },
  malformed_content_encoding: { status: 400, title: "The request body is not valid data for its Content-Encoding" },
  malformed_request: { status: 400, title: "The request is not valid HTTP" },
  validation_failed: { status: 400, title: "The request does not match its schema" },
  unauthorized: { status: 401, title: "A valid API key is required" },
  verification_failed: { status: 401, title: "The inbound webhook failed verification" },
  forbidden: { status: 403, title: "The API key lacks the scope this operation needs" },
  csrf_rejected: { status: 403, title: "The request did not come from this hub's own pages" },
  not_found: { status: 404, title: "No such resource" },
  route_not_found: { status: 404, title: "No such route" },
  method_not_allowed: { status: 405, title: "The route does not accept this method" },
  request_timeout: { status: 408, title: "The request was not received in time" },
  conflict: { status: 409, title: "The request conflicts with the current state" },
  idempotency_conflict: { status: 409, title: "This id was already used with a different body" },
  precondition_failed: { status: 412, title: "The resource changed since the version you hold" },
  payload_too_large: { status: 413, title: "The request body is too large" },
  unsupported_media_type: { status: 415, title: "The request body must be application/json" },
  unprocessable: { status: 422, title: "The request is well-formed but cannot be carried out" },
  upgrade_required: { status: 426, title: "This endpoint is a WebSocket" },
  precondition_required: { status: 428, title: "This operation needs an If-Match header" },
  headers_too_large: { status: 431, title: "The request headers are too large" },
  internal: { status: 500, title: "Internal server error" },
  plugin_error: { status: 502, title: "A plugin failed" },
  plugin_output_invalid: { status: 502, title: "A plugin returned data that violates its kind's schema" },
  plugin_timeout: { status: 504, title: "A plugin did not answer within its deadline" },
  plugin_unavailable: { status: 503, title: "No plugin is available for this operation" },
  plugin_ambiguous: { status: 503, title: "Several plugins of the kind are loaded and none is chosen" },
  not_ready: { status: 503, title: "The hub is not ready" },
  unavailable: { status: 503, title: "A store the hub needs did not answer in time; retry later" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface HubErrorOptions {
  /** Failing fields, for validation errors. */
  errors?: FieldError[];
  /** Extra members of the problem document (RFC 9457 extensions). */
  extensions?: Record<string, unknown>;
  /** Extra response headers, e.g. `Allow` or `Retry-After`. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** An error meant for the API caller. Recognise it with {@link isHubError}, not `instanceof`. */
export class HubError extends Error {
  override name = "HubError";
  readonly code: ErrorCode;
  readonly options: HubErrorOptions;

  constructor(code: ErrorCode, detail: string, options: HubErrorOptions = {}) {
    super(detail, { cause: options.cause });
    this.code = code;
    this.options = options;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

export function isHubError(error: unknown): error is HubError {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as { name?: unknown }).name === "HubError" &&
    Object.hasOwn(ERROR_CODES, (error as { code?: unknown }).code as string)
  );
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}
