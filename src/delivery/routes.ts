import { Router, type RequestHandler } from "express";
import type { Auth } from "../http/auth.ts";
import { HubError } from "../http/errors.ts";
import type { Validation } from "../http/validate.ts";
import { decodeCursor } from "../redis/cursor-page.ts";
import type { DeliveryStatus, DeliveryStore } from "./delivery-store.ts";
import type { SubscriptionInput, SubscriptionPatch, SubscriptionService } from "./subscription-service.ts";

export interface DeliveryRoutesOptions {
  auth: Auth;
  validation: Validation;
  subscriptions: SubscriptionService;
  deliveries: DeliveryStore;
}

/** A body is optional here: an absent one validates as `{}`. */
const optionalBody: RequestHandler = (req, _res, next) => {
  req.body ??= {};
  next();
};

export function cursorOf(raw: string | undefined): { score: number; member: string } | undefined {
  if (raw === undefined) return undefined;
  const cursor = decodeCursor(raw);
  if (!cursor) throw new HubError("validation_failed", "the cursor is not one this API gave out", { errors: [{ pointer: "/query/cursor", message: "is not a valid cursor" }] });
  return cursor;
}

/** Subscriptions (admin), their deliveries, dead letters and replay. */
export function deliveryRoutes({ auth, validation, subscriptions, deliveries }: DeliveryRoutesOptions): Router {
  const router = Router();
  const admin = auth.require("admin");
  const id = (params: Record<string, string | string[]>): string => String(params["id"]);

  router.post("/v1/subscriptions", admin, validation.body("subscription-create.schema.json"), async (req, res) => {
    const created = await subscriptions.create(req.body as SubscriptionInput);
    res.status(201).location(`/v1/subscriptions/${created.id}`).json(created);
  });
  router.get("/v1/subscriptions", admin, async (_req, res) => {
    res.json({ items: await subscriptions.list() });
  });
  router.get("/v1/subscriptions/:id", admin, async (req, res) => {
    res.json(await subscriptions.get(id(req.params)));
  });
  router.patch("/v1/subscriptions/:id", admin, validation.body("subscription-update.schema.json"), async (req, res) => {
    res.json(await subscriptions.update(id(req.params), req.body as SubscriptionPatch));
  });
  router.delete("/v1/subscriptions/:id", admin, async (req, res) => {
    await subscriptions.delete(id(req.params));
    res.status(204).end();
  });
  router.post("/v1/subscriptions/:id/rotate-secret", admin, optionalBody, validation.body("subscription-rotate-secret.schema.json"), async (req, res) => {
    res.json(await subscriptions.rotateSecret(id(req.params), (req.body as { secret?: string }).secret));
  });
  router.post("/v1/subscriptions/:id/test", admin, async (req, res) => {
    res.status(202).json(await subscriptions.test(id(req.params)));
  });
  router.post("/v1/subscriptions/:id/replay", admin, validation.body("subscription-replay.schema.json"), async (req, res) => {
    res.status(202).json(await subscriptions.replaySince(id(req.params), (req.body as { since: string }).since));
  });
  router.get("/v1/subscriptions/:id/deliveries", admin, validation.query("page-query.schema.json"), async (req, res) => {
    await subscriptions.get(id(req.params));
    const { limit, cursor } = req.query as unknown as { limit: number; cursor?: string };
    res.json(await deliveries.pageOfSubscription(id(req.params), limit, cursorOf(cursor)));
  });
  router.get("/v1/deliveries", admin, validation.query("deliveries-query.schema.json"), async (req, res) => {
    const { limit, cursor, subscription, status } = req.query as unknown as { limit: number; cursor?: string; subscription?: string; status?: DeliveryStatus };
    const after = cursorOf(cursor);
    res.json(await deliveries.pageOfAll({ limit, ...(after ? { cursor: after } : {}), ...(subscription ? { subscriptionId: subscription } : {}), ...(status ? { status } : {}) }));
  });
  router.get("/v1/deliveries/:id", admin, async (req, res) => {
    const found = await deliveries.get(id(req.params));
    if (!found) throw new HubError("not_found", `no delivery ${id(req.params)}`);
    res.json(found);
  });
  router.post("/v1/deliveries/:id/replay", admin, async (req, res) => {
    res.status(202).json(await subscriptions.replayDelivery(id(req.params)));
  });
  return router;
}
