import { HubError } from "../http/errors.ts";
import { tooDeep } from "../http/json-depth.ts";

/** How deep a body may nest: the transform's input check allows 32 levels for {source, headers, body}. */
const MAX_DEPTH = 30;

/**
 * The body of a delivery from its raw bytes: JSON (`application/json`, `*+json`, or no content
 * type), or the fields of `application/x-www-form-urlencoded` (the last value of a repeated name).
 * Anything else is refused before it is verified or stored.
 */
export function parseBody(raw: Buffer, contentType: string): unknown {
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "application/x-www-form-urlencoded") return Object.fromEntries(new URLSearchParams(raw.toString("utf8")));
  if (type !== "" && type !== "application/json" && !/^application\/[^/]+\+json$/.test(type)) {
    throw new HubError("unsupported_media_type", `send the webhook as application/json or application/x-www-form-urlencoded, not ${type.slice(0, 100)}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString("utf8")) as unknown;
  } catch {
    throw new HubError("malformed_json", raw.length === 0 ? "the webhook has no body; send JSON or form data" : "the webhook body is not valid JSON");
  }
  const pointer = tooDeep(body, MAX_DEPTH);
  if (pointer !== undefined) {
    const message = `nests deeper than ${MAX_DEPTH} levels of arrays and objects`;
    throw new HubError("validation_failed", `the body is invalid: ${pointer || "/"} ${message}`, { errors: [{ pointer, message }] });
  }
  return body;
}
