import express, { type RequestHandler } from "express";
import { HubError } from "./errors.ts";

const JSON_TYPES = ["application/json", "application/*+json"];

/**
 * Parses a JSON body; 415 for a body that is not JSON (express.json() alone would skip it
 * silently and the caller would get a confusing "body required"). Requests without a body — most
 * of them — pass straight through, without entering the parser.
 */
export function jsonBody(limit: string): RequestHandler {
  const parse = express.json({ limit, type: JSON_TYPES });
  return (req, res, next) => {
    const hasBody = req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
    if (!hasBody) {
      next();
      return;
    }
    if (!req.is(JSON_TYPES)) {
      const sent = req.headers["content-type"] ?? "no content type";
      throw new HubError("unsupported_media_type", `send the body as application/json, not ${sent}`);
    }
    parse(req, res, next);
  };
}
