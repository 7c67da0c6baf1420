import { Router } from "express";
import type { Auth } from "../http/auth.ts";
import type { FastBodyRoute } from "../http/fast-routes.ts";
import { HubError } from "../http/errors.ts";
import { sendJson } from "../http/send-json.ts";
import type { Validation } from "../http/validate.ts";
import type { SchemaRegistry } from "../schemas/schema-registry.ts";
import { EVENT_SCHEMA, type IngestService, type EventInput } from "./ingest-service.ts";

/** A page of an event's deliveries, as the delivery feature lists them. */
export type DeliveriesOfEvent = (eventId: string, limit: number, cursor?: string) => Promise<{ items: readonly unknown[]; nextCursor?: string }>;

export interface EventRoutesOptions {
  auth: Auth;
  validation: Validation;
  ingest: IngestService;
  /** Provided by the delivery feature. */
  deliveriesOf: DeliveriesOfEvent;
}

/** POST /v1/events, POST /v1/events/batch, GET /v1/events/{id}. */
export function eventRoutes({ auth, validation, ingest, deliveriesOf }: EventRoutesOptions): Router {
  const router = Router();
  router.post("/v1/events", auth.require("ingest"), validation.body(EVENT_SCHEMA), async (req, res) => {
    sendJson(res, 202, await ingest.ingest(req.body as EventInput));
  });
  router.post("/v1/events/batch", auth.require("ingest"), validation.body("events/batch-request.schema.json"), async (req, res) => {
    const { events } = req.body as { events: unknown[] };
    res.status(200).json({ results: await ingest.ingestBatch(events) });
  });
  router.get("/v1/events/:id", auth.require("read"), validation.query("page-query.schema.json"), async (req, res) => {
    const id = String(req.params["id"]);
    const stored = await ingest.get(id);
    if (!stored) throw new HubError("not_found", `no event ${id} (unknown, or older than KEFU_EVENTS_DEDUPE_SECONDS)`);
    const { limit, cursor } = req.query as unknown as { limit: number; cursor?: string };
    res.json({ event: stored.event, acceptedAt: new Date(stored.acceptedAt).toISOString(), deliveries: await deliveriesOf(id, limit, cursor) });
  });
  return router;
}

/**
 * `POST /v1/events` before express (fast-routes.ts), for a caller with the `ingest` scope and a
 * valid event: the route above, without express's layers. Anything else it leaves to that route,
 * which answers it as always.
 */
export function eventFastWrite({ auth, ingest, schemas }: { auth: Auth; ingest: IngestService; schemas: SchemaRegistry }): FastBodyRoute {
  const validate = schemas.validator<EventInput>(EVENT_SCHEMA);
  return {
    route: "/v1/events",
    url: "/v1/events",
    takes: (req) => auth.authenticate(req.headers.authorization)?.scopes.has("ingest") === true,
    async answer(body) {
      if (!validate(body)) return undefined;
      const accepted = await ingest.ingest(body);
      return (res) => sendJson(res, 202, accepted);
    },
  };
}
