import express, { Router, type Request, type Response } from "express";
import type { Auth } from "../http/auth.ts";
import { HubError } from "../http/errors.ts";
import { sendJson } from "../http/send-json.ts";
import type { Validation } from "../http/validate.ts";
import { decodeCursor } from "../redis/cursor-page.ts";
import type { InboundReceiver, Receipt } from "./inbound-receiver.ts";
import type { InboundSourceInput } from "./inbound-source.ts";
import type { InboundProcessor } from "./inbound-processor.ts";
import type { RawDeliveryStore } from "./raw-delivery-store.ts";
import type { SourceService } from "./source-service.ts";

export interface InboundRoutesOptions {
  auth: Auth;
  validation: Validation;
  sources: SourceService;
  receive: InboundReceiver;
  process: InboundProcessor;
  deliveries: RawDeliveryStore;
  /** Largest webhook body. @defaultValue 1 MiB */
  maxBodyBytes?: number;
}

/** Where the JSON body parser must not run: the verifiers need the raw bytes (see create-http-app.ts). */
export const RAW_BODY_PREFIX = "/v1/inbound/";

/** Sources (admin), the webhook door (verified, no key), raw deliveries and their replay (admin). */
export function inboundRoutes({ auth, validation, sources, receive, process, deliveries, maxBodyBytes = 1024 * 1024 }: InboundRoutesOptions): Router {
  const router = Router();
  const admin = auth.require("admin");
  const param = (req: Request, name: string): string => String(req.params[name]);

  router.put("/v1/inbound-sources/:source", admin, validation.body("inbound-source.schema.json"), async (req, res) => {
    const { created, source } = await sources.put(param(req, "source"), req.body as InboundSourceInput);
    sendJson(res, created ? 201 : 200, source);
  });
  router.get("/v1/inbound-sources", admin, async (_req, res) => {
    sendJson(res, 200, { items: await sources.list() });
  });
  router.get("/v1/inbound-sources/:source", admin, async (req, res) => {
    sendJson(res, 200, await sources.get(param(req, "source")));
  });
  router.delete("/v1/inbound-sources/:source", admin, async (req, res) => {
    await sources.delete(param(req, "source"));
    res.status(204).end();
  });

  // inflate off: a provider signs the bytes it sends, and a compressed body would be 415, not a 500.
  const rawBody = express.raw({ type: () => true, limit: maxBodyBytes, inflate: false });
  router.post("/v1/inbound/:source", rawBody, async (req, res) => {
    const receipt = await receive(param(req, "source"), {
      headers: flatHeaders(req),
      raw: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      contentType: req.headers["content-type"] ?? "",
    });
    answer(res, receipt);
    // After the answer: the delivery is durable, and recovery runs it if this process stops first.
    if (receipt.fresh) {
      process(receipt.id, { fresh: receipt.fresh }).catch((error: unknown) => req.log.error({ err: error, deliveryId: receipt.id }, "inbound delivery could not be taken up now; recovery runs it"));
    }
  });

  router.get("/v1/inbound-deliveries", admin, validation.query("inbound/deliveries-query.schema.json"), async (req, res) => {
    const { status = "all", limit, cursor } = req.query as unknown as { status?: "dead" | "received"; limit: number; cursor?: string };
    sendJson(res, 200, await deliveries.list(status, limit, cursorOf(cursor)));
  });
  router.post("/v1/inbound-deliveries/:id/replay", admin, async (req, res) => {
    const id = param(req, "id");
    const delivery = /^ind_[A-Za-z0-9_-]{1,64}$/.test(id) ? await deliveries.get(id) : undefined;
    if (!delivery) throw new HubError("not_found", `no inbound delivery ${id}`);
    if (delivery.status !== "dead") throw new HubError("conflict", `inbound delivery ${id} is ${delivery.status}; only dead letters (a failed transform) are replayed`);
    const outcome = await process(id);
    if (outcome?.status === "retry") throw new HubError("unavailable", `the replay could not run now (${outcome.error}); the delivery stays received and recovery runs it`, { headers: { "retry-after": "2" } });
    const { raw: _raw, headers: _headers, ...info } = (await deliveries.get(id)) ?? delivery;
    sendJson(res, 200, info);
  });
  return router;
}

/** The stored delivery's answer: the source's own, or 202 (200 for a duplicate) with its id. */
function answer(res: Response, { id, duplicate, source }: Receipt): void {
  const custom = source.response;
  if (!custom) {
    sendJson(res, duplicate ? 200 : 202, { id, duplicate });
    return;
  }
  res.status(custom.status);
  if (custom.body === undefined) {
    res.end();
    return;
  }
  const text = typeof custom.body === "string" ? custom.body : JSON.stringify(custom.body);
  res.setHeader("content-type", custom.contentType ?? (typeof custom.body === "string" ? "text/plain; charset=utf-8" : "application/json; charset=utf-8"));
  res.end(text);
}

function flatHeaders(req: Request): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

function cursorOf(raw: string | undefined): { score: number; member: string } | undefined {
  if (raw === undefined) return undefined;
  const cursor = decodeCursor(raw);
  if (!cursor) throw new HubError("validation_failed", "the cursor is not one this API gave out", { errors: [{ pointer: "/query/cursor", message: "is not a valid cursor" }] });
  return cursor;
}
