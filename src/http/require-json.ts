import type { RequestHandler } from "express";
import { HubError } from "./errors.ts";

const JSON_TYPES = ["application/json", "application/*+json"];

/**
 * 415 for a body that is not JSON. express.json() alone would skip such a body silently and the
 * caller would get a confusing "body required" instead.
 */
export function requireJsonBody(): RequestHandler {
  return (req, _res, next) => {
    const hasBody = req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
    if (hasBody && !req.is(JSON_TYPES)) {
      const sent = req.headers["content-type"] ?? "no content type";
      throw new HubError("unsupported_media_type", `send the body as application/json, not ${sent}`);
    }
    next();
  };
}
