import { Router } from "express";
import type { Auth } from "./auth.ts";
import { sendJson } from "./send-json.ts";

/** `GET /v1/whoami`: which key is calling and what it may do. Any scope may ask. */
export function whoamiRoutes(auth: Auth): Router {
  const router = Router();
  router.get("/v1/whoami", auth.require("read"), (req, res) => {
    const principal = req.principal;
    sendJson(res, 200, { keyId: principal?.keyId, scopes: [...(principal?.scopes ?? [])] });
  });
  return router;
}
