import { Router } from "express";
import type { Registry } from "prom-client";
import { buildProblem, sendProblem } from "../http/problem.ts";
import { sendJson } from "../http/send-json.ts";

export interface ReadinessReport {
  ready: boolean;
  /** Per check: `ok` or why not. */
  checks: Record<string, string>;
}

export interface HealthRoutesOptions {
  readiness: () => Promise<ReadinessReport>;
  metrics: Registry;
}

/** Unauthenticated probes and metrics, for orchestrators and Prometheus. */
export function healthRoutes({ readiness, metrics }: HealthRoutesOptions): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    sendJson(res, 200, { status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    const report = await readiness();
    if (report.ready) {
      sendJson(res, 200, { status: "ready", checks: report.checks });
      return;
    }
    const failing = Object.entries(report.checks).filter(([, state]) => state !== "ok");
    const detail = failing.map(([name, state]) => `${name}: ${state}`).join("; ");
    sendProblem(res, buildProblem("not_ready", detail, { extensions: { checks: report.checks } }), { "retry-after": "1" });
  });
  router.get("/metrics", async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });
  return router;
}
