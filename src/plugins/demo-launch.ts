import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Logger } from "pino";
import type { startDemoBusinessSystem } from "../../plugins/demo-business-system/server.ts";
import type { HubConfig } from "../config/config.ts";

const DEMO_PLUGINS = ["demo-orders", "demo-payments", "demo-logistics", "demo-crm"];

export interface RunningDemo {
  url: string;
  close(): Promise<void>;
}

/**
 * `kefu-hub start` on a fresh clone: when demo plugins are loaded (and `demoBusinessSystem` is
 * on), start the demo business system and point every demo plugin without an explicit `baseUrl`
 * at it. Changes `config.plugins` in place, before the plugin host reads it.
 */
export async function startDemoIfEnabled(config: HubConfig, logger: Logger, hubRoot: string): Promise<RunningDemo | undefined> {
  if (!config.demoBusinessSystem) return undefined;
  const pluginsDir = resolve(config.pluginsDir);
  const enabled = DEMO_PLUGINS.filter((name) => existsSync(join(pluginsDir, name, "plugin.json")) && config.plugins[name]?.enabled !== false);
  const serverFile = join(hubRoot, "plugins", "demo-business-system", "server.ts");
  if (enabled.length === 0 || !existsSync(serverFile)) return undefined;
  // Imported by path at run time: the demo is an example beside the hub, not a part of it.
  const module = (await import(pathToFileURL(serverFile).href)) as { startDemoBusinessSystem: typeof startDemoBusinessSystem };
  let demo: RunningDemo;
  try {
    demo = await module.startDemoBusinessSystem({ port: config.demoBusinessSystemPort, host: "127.0.0.1" });
  } catch (error) {
    // A busy port must not stop the hub: the demo plugins then answer plugin_error until it is fixed.
    logger.warn({ err: error, port: config.demoBusinessSystemPort }, "cannot start the demo business system; set KEFU_DEMO_BUSINESS_SYSTEM_PORT to a free port (0 picks one) or KEFU_DEMO_BUSINESS_SYSTEM=false");
    return undefined;
  }
  for (const name of enabled) {
    const settings = config.plugins[name] ?? {};
    if (settings.config?.["baseUrl"] !== undefined) continue;
    config.plugins[name] = { ...settings, config: { ...settings.config, baseUrl: demo.url } };
  }
  logger.info({ url: demo.url, plugins: enabled }, `demo business system listening on ${demo.url} (KEFU_DEMO_BUSINESS_SYSTEM=false turns it off); try POST /v1/plugins/demo-orders/invoke with {"method":"getOrder","input":{"orderId":"SO-100003"}}`);
  return demo;
}
