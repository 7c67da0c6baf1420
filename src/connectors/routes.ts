import { Router } from "express";
import type { Auth } from "../http/auth.ts";
import { HubError } from "../http/errors.ts";
import { sendJson } from "../http/send-json.ts";
import type { Validation } from "../http/validate.ts";
import type { PartName } from "./context-parts.ts";
import type { OrderContextService } from "./order-context.ts";

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

  router.get("/v1/orders/:orderId/context", auth.require("read"), validation.query("context/context-query.schema.json"), async (req, res) => {
    const orderId = pathId(req.params["orderId"], "orderId");
    const query = req.query as { parts?: string; customerId?: string };
    const context = await service.getContext({
      orderId,
      ...(query.parts ? { parts: query.parts.split(",") as PartName[] } : {}),
      ...(query.customerId ? { customerId: query.customerId } : {}),
    });
    sendJson(res, 200, context);
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

function pathId(value: string | string[] | undefined, name: string): string {
  if (typeof value === "string" && ID.test(value)) return value;
  const message = "must be 1 to 128 letters, digits or . _ : @ -";
  throw new HubError("validation_failed", `the path is invalid: /path/${name} ${message}`, {
    errors: [{ pointer: `/path/${name}`, message }],
  });
}
