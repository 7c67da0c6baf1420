import type { ServerResponse } from "node:http";
import { Router, type Request } from "express";
import type { Auth } from "../http/auth.ts";
import { HubError } from "../http/errors.ts";
import { plainSegmentAfter, type FastRoute } from "../http/fast-routes.ts";
import type { Validation } from "../http/validate.ts";
import type { BehaviorIntake } from "./behavior-intake.ts";
import type { BehaviorDeadLetters } from "./dead-letters.ts";
import type { FusionDocument } from "./fusion-document.ts";
import type { FusionService } from "./fusion-service.ts";
import type { SessionMirror } from "./session-mirror.ts";
import type { SessionStore } from "./session-store.ts";
import { streamSession } from "./session-stream.ts";

export interface SessionRoutesOptions {
  auth: Auth;
  validation: Validation;
  mirror: SessionMirror;
  store: SessionStore;
  intake: BehaviorIntake;
  deadLetters: BehaviorDeadLetters;
  fusion: FusionService;
  heartbeatMs: number;
}

/** Sessions, behaviour events and the fusion document; docs in openapi/paths/sessions.yaml and docs/sessions.md. */
export function sessionRoutes(options: SessionRoutesOptions): Router {
  const { auth, validation, mirror, store, intake, deadLetters, fusion, heartbeatMs } = options;
  const router = Router();

  // An open session answers from this process's prebuilt bytes; a closed one from Redis.
  const find = async (sessionId: string): Promise<{ version: number; body: Buffer }> => {
    const mirrored = mirror.get(sessionId);
    if (mirrored) return mirrored;
    const record = await store.get(sessionId);
    if (!record) throw new HubError("not_found", `no session ${sessionId} (unknown, or closed more than KEFU_SESSIONS_RETAIN_SECONDS ago)`);
    return { version: record.version, body: Buffer.from(record.contextJson) };
  };

  router.get("/v1/sessions", auth.require("read"), validation.query("sessions/session-list-query.schema.json"), async (req, res) => {
    const query = req.query as unknown as { customerId?: string; state?: "open" | "closed"; limit: number; cursor?: string };
    const page = await store.list(query);
    const items = page.items.map((record) => record.contextJson).join(",");
    res.type("application/json").send(`{"items":[${items}]${page.nextCursor ? `,"nextCursor":${JSON.stringify(page.nextCursor)}` : ""}}`);
  });

  // Not async on purpose: an open session is answered from the mirror with no promise in between
  // and without res.send's content-type and freshness work (measured in bench/sessions.ts).
  router.get("/v1/sessions/:sessionId", auth.require("read"), (req, res) => {
    const sessionId = String(req.params["sessionId"]);
    const mirrored = mirror.get(sessionId);
    if (mirrored) return void sendSession(res, mirrored, req.headers["if-none-match"]);
    return find(sessionId).then((session) => sendSession(res, session, req.headers["if-none-match"]));
  });

  router.get("/v1/sessions/:sessionId/stream", auth.require("read"), async (req, res) => {
    const sessionId = String(req.params["sessionId"]);
    streamSession({ mirror, heartbeatMs }, req, res, sessionId, await find(sessionId));
  });

  router.post("/v1/behavior-events", auth.require("ingest"), validation.body("sessions/behavior-batch-request.schema.json"), async (req, res) => {
    const { events } = req.body as { events: unknown[] };
    res.status(200).json({ results: await intake.submit("http", events) });
  });

  router.get("/v1/behavior-events/dead-letters", auth.require("read"), validation.query("sessions/dead-letter-query.schema.json"), async (req, res) => {
    const { limit, cursor } = req.query as unknown as { limit: number; cursor?: string };
    res.json(await deadLetters.list(limit, cursor));
  });

  router.get("/v1/fusion", auth.require("read"), async (_req, res) => {
    const current = await fusion.current();
    res.set("etag", `"${current.version}"`).json(current);
  });

  router.put("/v1/fusion", auth.require("admin"), validation.body("sessions/fusion.schema.json"), async (req, res) => {
    const version = await fusion.activate(req.body as FusionDocument, ifMatch(req), req.principal?.keyId ?? "unknown");
    res.status(200).set("etag", `"${version}"`).json({ version });
  });

  return router;
}

const SESSION_PREFIX = "/v1/sessions/";

/**
 * `GET /v1/sessions/{id}` of an open session, before express (src/http/fast-routes.ts): the same
 * answer as the route above, for a `read` key and a plain id. The rest goes to that route.
 */
export function sessionFastRoute({ auth, mirror }: Pick<SessionRoutesOptions, "auth" | "mirror">): FastRoute {
  return {
    route: "/v1/sessions/:sessionId",
    urlPrefix: SESSION_PREFIX,
    answer(req) {
      const sessionId = plainSegmentAfter(req.url ?? "", SESSION_PREFIX);
      if (sessionId === undefined || !auth.authenticate(req.headers.authorization)?.scopes.has("read")) return undefined;
      const session = mirror.get(sessionId);
      if (!session) return undefined;
      const ifNoneMatch = req.headers["if-none-match"];
      return (res) => sendSession(res, session, ifNoneMatch);
    },
  };
}

/** The context JSON with its version as the ETag; 304 when the caller holds that version. */
function sendSession(res: ServerResponse, session: { version: number; body: Buffer }, ifNoneMatch: string | undefined): void {
  const etag = `"${session.version}"`;
  res.setHeader("etag", etag);
  if (ifNoneMatch === etag) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.statusCode = 200;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("content-length", session.body.length);
  res.end(session.body);
}

/** The version named by `If-Match` (`"7"`, `W/"7"` or `*`); 428 without one, 412 when unparseable. */
function ifMatch(req: Request): number | "*" {
  const header = req.headers["if-match"];
  if (header === undefined || header.trim() === "") {
    throw new HubError("precondition_required", 'send If-Match with the ETag of GET /v1/fusion, e.g. If-Match: "0" for the built-in default');
  }
  if (header.trim() === "*") return "*";
  const match = /^(?:W\/)?"(\d+)"$/.exec(header.split(",")[0]?.trim() ?? "");
  if (!match) throw new HubError("precondition_failed", `If-Match ${header} names no fusion version; use the ETag of GET /v1/fusion`);
  return Number(match[1]);
}
