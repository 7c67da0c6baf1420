import { Router } from "express";
import type { Auth } from "../http/auth.ts";
import type { Validation } from "../http/validate.ts";
import type { BreakerState } from "../resilience/breaker-registry.ts";
import type { PluginHost, PluginInfo } from "./plugin-host.ts";

export interface PluginRoutesOptions {
  host: PluginHost;
  auth: Auth;
  validation: Validation;
  /** Breaker state per method of a plugin, supplied by whoever keeps breakers (the order-context aggregator). */
  breakerStates?: (plugin: string) => Record<string, BreakerState>;
}

/** The admin API of the plugin host (admin scope). */
export function pluginRoutes({ host, auth, validation, breakerStates }: PluginRoutesOptions): Router {
  const router = Router();
  const admin = auth.require("admin");
  const view = (info: PluginInfo): PluginInfo & { breakers: Record<string, BreakerState> } => ({ ...info, breakers: breakerStates?.(info.name) ?? {} });

  router.get("/v1/plugins", admin, (_req, res) => {
    res.json({ items: host.list().map(view), kinds: host.kinds() });
  });
  router.get("/v1/plugins/:name", admin, (req, res) => {
    res.json(view(host.info(String(req.params["name"]))));
  });
  router.post("/v1/plugins/:name/reload", admin, async (req, res) => {
    res.json(view(await host.reload(String(req.params["name"]))));
  });
  router.post("/v1/plugins/:name/invoke", admin, validation.body("plugins/invoke-request.schema.json"), async (req, res) => {
    const name = String(req.params["name"]);
    const { method, input, timeoutMs } = req.body as { method: string; input: unknown; timeoutMs?: number };
    const started = performance.now();
    const result = await host.invoke(name, method, input, timeoutMs === undefined ? {} : { timeoutMs });
    res.json({ plugin: name, method, durationMs: Math.round((performance.now() - started) * 1000) / 1000, result });
  });
  return router;
}
