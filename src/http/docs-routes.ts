import { Router } from "express";
import swaggerUi from "swagger-ui-express";
import type { OpenApiDocument } from "./openapi-document.ts";

/** `GET /openapi.json` (the bundled document) and Swagger UI at `/docs`. */
export function docsRoutes(document: OpenApiDocument): Router {
  const router = Router();
  const body = JSON.stringify(document);
  router.get("/openapi.json", (_req, res) => {
    res.type("application/json").send(body);
  });
  // serveFiles (not the shared `serve`) keeps the UI's options per app instead of in module state.
  const options = {
    customSiteTitle: "kefu-hub API",
    swaggerUrl: "/openapi.json",
    swaggerOptions: { persistAuthorization: true, tryItOutEnabled: true, displayRequestDuration: true },
  };
  router.use("/docs", swaggerUi.serveFiles(undefined, options), swaggerUi.setup(undefined, options));
  return router;
}
