import { ERROR_CODES, type ErrorCode } from "./errors.ts";

interface ExampleParts {
  detail: string;
  instance: string;
  errors?: { pointer: string; message: string }[];
}

/**
 * One realistic answer per error code, for the OpenAPI document: Swagger UI shows each error
 * response with an answer of its own status instead of the Problem schema's single 400 example.
 * Typed against the registry, so a new code cannot go without one. The ids are the demo's.
 */
const PARTS = {
  malformed_json: { detail: "the body could not be parsed as JSON", instance: "/v1/events" },
  malformed_encoding: { detail: "path parameter orderId is not valid percent-encoding: SO-%ff", instance: "/v1/orders/SO-%ff/context", errors: [{ pointer: "/path/orderId", message: "is not valid percent-encoding" }] },
  malformed_content_encoding: { detail: "the gzip body could not be decompressed", instance: "/v1/events" },
  malformed_request: { detail: "the request could not be parsed as HTTP", instance: "/" },
  request_timeout: { detail: "the request did not arrive in time", instance: "/" },
  headers_too_large: { detail: "the request headers exceed 16 KiB", instance: "/" },
  validation_failed: {
    detail: 'the body is invalid: /priority must be one of "urgent", "high", "normal", "low"',
    instance: "/v1/events",
    errors: [{ pointer: "/priority", message: 'must be one of "urgent", "high", "normal", "low"' }],
  },
  unauthorized: { detail: "send an API key as `Authorization: Bearer <key>`", instance: "/v1/orders/SO-100003/context" },
  verification_failed: { detail: "the webhook failed its signature check: the sha256 HMAC in x-carrier-signature does not match the body", instance: "/v1/inbound/demo-carrier" },
  forbidden: { detail: "this operation needs the `admin` scope; the key has read", instance: "/v1/subscriptions" },
  csrf_rejected: { detail: "send the session's CSRF token (form field `csrf` or header `x-csrf-token`); sign in again at /admin to get one", instance: "/admin/session/delete" },
  not_found: { detail: "order SO-999999 is not known to the orders plugin (demo-orders)", instance: "/v1/orders/SO-999999/context" },
  route_not_found: { detail: "no route GET /v1/order/SO-100003; see /docs for the API", instance: "/v1/order/SO-100003" },
  method_not_allowed: { detail: "DELETE is not allowed on /v1/events; use POST", instance: "/v1/events" },
  conflict: { detail: "delivery evt_ticket-created-T-1042.sub_Qm3x9TzL0aBcDeFg is delivered; only failed deliveries (dead letters) can be replayed", instance: "/v1/deliveries/evt_ticket-created-T-1042.sub_Qm3x9TzL0aBcDeFg/replay" },
  idempotency_conflict: { detail: "event evt_ticket-created-T-1042 was already accepted with a different body; send a new event with a new id", instance: "/v1/events" },
  precondition_failed: { detail: 'the ruleset is at version 8, not 7; fetch it, reapply your change and send If-Match: "8"', instance: "/v1/routing/ruleset" },
  payload_too_large: { detail: "the body is larger than the configured limit", instance: "/v1/events/batch" },
  unsupported_media_type: { detail: "send the body as application/json, not text/plain", instance: "/v1/events" },
  upgrade_required: { detail: "GET /v1/live is a WebSocket: upgrade with Sec-WebSocket-Protocol kefu.v1.json and a live token (docs/live.md); for read-only HTTP use GET /v1/live/sse", instance: "/v1/live" },
  unprocessable: {
    detail: "the webhook URL is not allowed: refusing http://127.0.0.1:9000: 127.0.0.1 is a loopback, private, link-local, CGNAT, multicast, reserved or metadata address; to deliver there deliberately, add its range to KEFU_DELIVERY_ALLOW_CIDRS (e.g. KEFU_DELIVERY_ALLOW_CIDRS=127.0.0.0/8)",
    instance: "/v1/subscriptions",
    errors: [{ pointer: "/url", message: "refusing http://127.0.0.1:9000: 127.0.0.1 is a loopback, private, link-local, CGNAT, multicast, reserved or metadata address" }],
  },
  precondition_required: { detail: 'send If-Match with the ETag of the ruleset you changed (GET /v1/routing/ruleset), e.g. If-Match: "3"', instance: "/v1/routing/ruleset" },
  internal: { detail: "the hub failed to answer; quote the requestId when reporting it", instance: "/v1/orders/SO-100003/context" },
  plugin_error: { detail: "demo-crm getCustomer failed: Error: the CRM answered 503", instance: "/v1/customers/C-0113" },
  plugin_output_invalid: { detail: "demo-crm getCustomer returned data that violates schemas/plugins/crm.schema.json: /tier must be one of …", instance: "/v1/customers/C-0113" },
  plugin_timeout: { detail: "demo-crm getCustomer did not answer for customer C-0113 in time", instance: "/v1/customers/C-0113" },
  plugin_unavailable: { detail: "demo-crm getCustomer is failing; its circuit breaker is open", instance: "/v1/customers/C-0113" },
  plugin_ambiguous: { detail: "cannot look up customer C-0113: several crm plugins are loaded (demo-crm, my-crm) and KEFU_PLUGIN_KINDS names none", instance: "/v1/customers/C-0113" },
  not_ready: { detail: "not ready: redis: waiting for Redis at redis://127.0.0.1:6379", instance: "/readyz" },
  unavailable: { detail: "Redis did not answer within 2000 ms; retry after Retry-After seconds with the same event id", instance: "/v1/events" },
} as const satisfies Record<ErrorCode, ExampleParts>;

/** Codes an error response of this status shows when its description names none. */
const DEFAULT_CODES: Readonly<Record<number, readonly ErrorCode[]>> = {
  400: ["validation_failed", "malformed_json"],
  503: ["unavailable"],
};

/** The component name of a code's example: `#/components/examples/problem.<code>`. */
export function problemExampleName(code: ErrorCode): string {
  return `problem.${code}`;
}

/** The problem document a request meeting this code answers. */
export function problemExample(code: ErrorCode): Record<string, unknown> {
  const { status, title } = ERROR_CODES[code];
  const parts: ExampleParts = PARTS[code];
  return { type: `https://kefu-hub.dev/problems/${code}`, title, status, code, ...parts, requestId: "5f0c6c2e-6a55-4d0e-9d7c-0a8b7f0e2f11" };
}

/**
 * The codes an error response documents: those its description names in backticks (`` `conflict` ``)
 * that answer its status, else the status's defaults, else every code of that status.
 */
export function codesFor(status: number, description: string): ErrorCode[] {
  const ofStatus = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((code) => ERROR_CODES[code].status === status);
  const named = ofStatus.filter((code) => description.includes(`\`${code}\``));
  if (named.length > 0) return named;
  return [...(DEFAULT_CODES[status] ?? ofStatus.filter((code) => code !== "route_not_found"))];
}

type Json = Record<string, unknown>;

/**
 * Adds `components.examples` (one per code) and, to each `application/problem+json` response in
 * `paths` and `components.responses` that has no example of its own, `examples` referring to the
 * codes of its status. Changes `document` in place.
 */
export function addProblemExamples(document: { paths: Record<string, Json>; components: Json }): void {
  const examples = ((document.components["examples"] as Json | undefined) ??= {});
  for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
    examples[problemExampleName(code)] = { summary: `${ERROR_CODES[code].status} ${code}`, value: problemExample(code) };
  }
  const fill = (status: number, response: Json): void => {
    const media = (response["content"] as Json | undefined)?.["application/problem+json"] as Json | undefined;
    if (!media || "example" in media || "examples" in media) return;
    const description = response["description"];
    const codes = codesFor(status, typeof description === "string" ? description : "");
    media["examples"] = Object.fromEntries(codes.map((code) => [code, { $ref: `#/components/examples/${problemExampleName(code)}` }]));
  };
  const responses = (document.components["responses"] ?? {}) as Record<string, Json>;
  for (const response of Object.values(responses)) {
    const status = statusOfComponent(response);
    if (status !== undefined) fill(status, response);
  }
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item)) {
      const byStatus = (operation as Json | undefined)?.["responses"] as Record<string, Json> | undefined;
      if (typeof byStatus !== "object" || byStatus === null) continue;
      for (const [status, response] of Object.entries(byStatus)) {
        if (/^[45]\d\d$/.test(status) && !("$ref" in response)) fill(Number(status), response);
      }
    }
  }
}

/** A shared response component says its status in `x-status` (OpenAPI components have no status of their own). */
function statusOfComponent(response: Json): number | undefined {
  const status = response["x-status"];
  return typeof status === "number" ? status : undefined;
}
