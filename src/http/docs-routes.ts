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
  router.use(
    "/docs",
    swaggerUi.serveFiles(undefined, { swaggerUrl: "/openapi.json" }),
    swaggerUi.setup(undefined, {
      customSiteTitle: "kefu-hub API",
      swaggerOptions: { url: "/openapi.json", persistAuthorization: true, tryItOutEnabled: true },
    }),
  );
  return router;
}
