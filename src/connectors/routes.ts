import { Router, type RequestHandler, type Response } from "express";
import type { Auth } from "../http/auth.ts";
import { HubError } from "../http/errors.ts";
import { sendJson } from "../http/send-json.ts";
import type { Validation } from "../http/validate.ts";
import type { PartName } from "./context-parts.ts";
import type { ContextRequest, OrderContextService } from "./order-context.ts";

export interface ContextRoutesOptions {
  auth: Auth;
  validation: Validation;
  service: OrderContextService;
}

/** Business ids as they appear in paths: generous, but no slashes, spaces or control characters. */
const ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/**
 * `GET /v1/orders/{orderId}/context`, `GET /v1/customers/{customerId}` (read) and
 * `DELETE /v1/orders/{orderId}/context/cache` (admin).
 */
export function contextRoutes({ auth, validation, service }: ContextRoutesOptions): Router {
  const router = Router();
  const validateQuery = validation.query("context/context-query.schema.json");
  // An empty query is valid, and skipping the validator then also spares the hot path the
  // redefinition of req.query it does (measured in bench/context.ts).
  const contextQuery: RequestHandler = (req, res, next) => (req.url.includes("?") ? validateQuery(req, res, next) : next());

  router.get("/v1/orders/:orderId/context", auth.require("read"), contextQuery, (req, res) => {
    const request: ContextRequest = { orderId: pathId(req.params["orderId"], "orderId") };
    if (req.url.includes("?")) {
      const query = req.query as { parts?: string; customerId?: string };
      if (query.parts) request.parts = query.parts.split(",") as PartName[];
      if (query.customerId) request.customerId = query.customerId;
    }
    // Not async on purpose: a cached answer is written without a promise in between.
    const hot = service.hotContext(request);
    if (hot !== undefined) return sendJsonBytes(res, hot);
    return service.getContext(request).then((context) => sendJson(res, 200, context));
  });

  router.delete("/v1/orders/:orderId/context/cache", auth.require("admin"), async (req, res) => {
    await service.invalidateOrder(pathId(req.params["orderId"], "orderId"), { includeCustomer: true });
    res.status(204).end();
  });

  router.get("/v1/customers/:customerId", auth.require("read"), async (req, res) => {
    sendJson(res, 200, await service.getCustomer(pathId(req.params["customerId"], "customerId")));
  });

  return router;
}

/** As sendJson, for a body that is UTF-8 JSON already. */
function sendJsonBytes(res: Response, body: Buffer): void {
  res.statusCode = 200;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("content-length", body.length);
  res.end(body);
}

function pathId(value: string | string[] | undefined, name: string): string {
  if (typeof value === "string" && ID.test(value)) return value;
  const message = "must be 1 to 128 letters, digits or . _ : @ -";
  throw new HubError("validation_failed", `the path is invalid: /path/${name} ${message}`, {
    errors: [{ pointer: `/path/${name}`, message }],
  });
}
