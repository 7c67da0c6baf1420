import { join } from "node:path";
import express, { Router, type Response } from "express";

/**
 * The demo console (`/demo/agent`, `/demo/visitor`): static pages from `clients/demo/`, and the
 * browser client they use from `clients/browser/` at `/demo/lib/`. No key is needed to load them;
 * the pages ask for an admin key and call the API with it, as Swagger UI does. Mounted with
 * `router.use`, so these files are not API routes (nor in the OpenAPI drift test), like `/docs`.
 */
export function demoPages(clientsDir: string): Router {
  const router = Router();
  const options = {
    extensions: ["html"],
    index: false,
    setHeaders(res: Response) {
      // Everything is served from here: no CDN, and the pages may talk only to this hub.
      res.setHeader("content-security-policy", "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
      res.setHeader("x-content-type-options", "nosniff");
      res.setHeader("cache-control", "no-cache");
    },
  };
  router.use("/demo/lib", express.static(join(clientsDir, "browser"), options));
  router.use("/demo", express.static(join(clientsDir, "demo"), options));
  return router;
}
