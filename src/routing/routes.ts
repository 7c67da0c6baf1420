import { Router, type Request } from "express";
import type { Auth } from "../http/auth.ts";
import { HubError } from "../http/errors.ts";
import type { Validation } from "../http/validate.ts";
import type { HubEvent } from "../events/hub-event.ts";
import type { RoutingService, SimulateInput } from "./routing-service.ts";

/** The routing admin and dry-run API; docs in openapi/paths/routing.yaml and docs/routing.md. */
export function routingRoutes({ auth, validation, service }: { auth: Auth; validation: Validation; service: RoutingService }): Router {
  const router = Router();

  router.get("/v1/routing/ruleset", auth.require("read"), async (_req, res) => {
    const current = await service.current();
    res.set("etag", etag(current.version)).json(current);
  });

  router.put("/v1/routing/ruleset", auth.require("admin"), async (req, res) => {
    const expected = ifMatch(req);
    // Validated by the service rather than validation.body(), so that each error names its rule.
    const { version, warnings } = await service.activate(req.body, expected, req.principal?.keyId ?? "unknown");
    res.status(200).set("etag", etag(version)).json({ version, warnings });
  });

  router.get("/v1/routing/ruleset/versions", auth.require("read"), async (_req, res) => {
    const [current, versions] = await Promise.all([service.current(), service.history()]);
    res.json({ current: current.version, versions });
  });

  router.get("/v1/routing/ruleset/versions/:version", auth.require("read"), async (req, res) => {
    const stored = await service.version(versionParam(String(req.params["version"])));
    res.set("etag", etag(stored.version)).json(stored);
  });

  router.get("/v1/routing/ruleset/diff", auth.require("read"), validation.query("routing/diff-query.schema.json"), async (req, res) => {
    const { from, to } = req.query as unknown as { from: number; to: number };
    res.json({ from, to, ...(await service.diff(from, to)) });
  });

  router.post("/v1/routing/ruleset/rollback", auth.require("admin"), validation.body("routing/rollback-request.schema.json"), async (req, res) => {
    const expected = req.headers["if-match"] === undefined ? "*" : ifMatch(req);
    const { version: target } = req.body as { version: number };
    const { version, warnings } = await service.rollback(target, expected, req.principal?.keyId ?? "unknown");
    res.status(200).set("etag", etag(version)).json({ version, warnings });
  });

  router.post("/v1/routing/decide", auth.require("read"), validation.body("routing/decide-request.schema.json"), async (req, res) => {
    const { event, facts, ruleset } = req.body as { event?: Partial<HubEvent>; facts?: Record<string, unknown>; ruleset?: unknown };
    res.json(await service.explain({ ...(event ? { event: completeEvent(event, 0) } : {}), ...(facts ? { facts } : {}), ...(ruleset ? { ruleset } : {}) }));
  });

  router.post("/v1/routing/simulate", auth.require("read"), validation.body("routing/simulate-request.schema.json"), async (req, res) => {
    const body = req.body as Omit<SimulateInput, "events"> & { events?: Partial<HubEvent>[] };
    if (body.events && body.last !== undefined) throw new HubError("validation_failed", "give either `events` or `last`, not both", { errors: [{ pointer: "/last", message: "cannot be combined with events" }] });
    const { events, ...rest } = body;
    res.json(await service.simulate({ ...rest, ...(events ? { events: events.map(completeEvent) } : {}) }));
  });

  return router;
}

function etag(version: number): string {
  return `"${version}"`;
}

/** The version named by `If-Match` (`"7"`, `W/"7"` or `*`); 428 without one, 412 when unparseable. */
function ifMatch(req: Request): number | "*" {
  const header = req.headers["if-match"];
  if (header === undefined || header.trim() === "") {
    throw new HubError("precondition_required", 'send If-Match with the ETag of the ruleset you changed (GET /v1/routing/ruleset), e.g. If-Match: "3"');
  }
  if (header.trim() === "*") return "*";
  const match = /^(?:W\/)?"(\d+)"$/.exec(header.split(",")[0]?.trim() ?? "");
  if (!match) throw new HubError("precondition_failed", `If-Match ${header} names no ruleset version; use the ETag from GET /v1/routing/ruleset`);
  return Number(match[1]);
}

function versionParam(raw: string | undefined): number {
  if (!raw || !/^\d{1,9}$/.test(raw)) throw new HubError("not_found", `there is no routing ruleset version ${raw ?? ""}`);
  return Number(raw);
}

function completeEvent(event: Partial<HubEvent>, index: number): HubEvent {
  return {
    id: event.id ?? `event-${index}`,
    type: event.type ?? "ticket.created",
    occurredAt: event.occurredAt ?? new Date().toISOString(),
    source: event.source ?? "dry-run",
    priority: event.priority ?? "normal",
    data: event.data ?? {},
  };
}
