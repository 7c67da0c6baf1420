import { Router } from "express";
import type { Auth } from "../http/auth.ts";
import { HubError } from "../http/errors.ts";
import type { Validation } from "../http/validate.ts";
import type { ChannelHistory } from "./channel-history.ts";
import type { LocalFanout } from "./local-fanout.ts";
import { LIVE_PATH } from "./live-gateway.ts";
import { liveSse } from "./live-sse.ts";
import type { LiveRole, LiveTokens } from "./live-token.ts";

/** Tokens, the SSE fallback and a session's message history; the WebSocket itself is in live-gateway.ts. */
export interface LiveRoutesOptions {
  auth: Auth;
  validation: Validation;
  tokens: LiveTokens;
  history: ChannelHistory;
  fanout: LocalFanout;
  heartbeatMs: number;
}

export function liveRoutes({ auth, validation, tokens, history, fanout, heartbeatMs }: LiveRoutesOptions): Router {
  const router = Router();

  // A plain GET (a browser, Swagger UI's Try it out) reaches express; the upgrade goes to the gateway.
  router.get(LIVE_PATH, (_req, res) => {
    res.setHeader("upgrade", "websocket");
    throw new HubError("upgrade_required", `GET ${LIVE_PATH} is a WebSocket: upgrade with Sec-WebSocket-Protocol kefu.v1.json (or kefu.v1.proto) and a live token (docs/live.md); for read-only HTTP use GET ${LIVE_PATH}/sse`);
  });

  // Authenticated by the live token itself (EventSource cannot send an API key header).
  router.get("/v1/live/sse", liveSse({ tokens, history, fanout, heartbeatMs }));

  router.post("/v1/live/tokens", auth.require("admin"), validation.body("live/token-request.schema.json"), (req, res) => {
    const { role, id, sessions, ttlSeconds } = req.body as { role: LiveRole; id: string; sessions?: string[]; ttlSeconds: number };
    res.status(201).json(tokens.issue({ role, id, ttlSeconds, ...(sessions ? { sessions } : {}) }));
  });

  router.get("/v1/sessions/:sessionId/messages", auth.require("read"), validation.query("live/messages-query.schema.json"), async (req, res) => {
    const { before, limit } = req.query as unknown as { before?: number; limit: number };
    const page = await history.page(`session:${String(req.params["sessionId"])}`, before, limit);
    const items = page.map(({ offset, dataJson }) => `{"offset":${offset},"data":${dataJson}}`).join(",");
    const last = page[page.length - 1];
    res.type("application/json").send(`{"items":[${items}]${page.length === limit && last ? `,"nextBefore":${last.offset}` : ""}}`);
  });

  return router;
}
