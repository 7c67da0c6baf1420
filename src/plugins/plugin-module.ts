import { resolve } from "node:path";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { HubConfig } from "../config/config.ts";
import type { HubModule } from "../hub-module.ts";
import type { SchemaRegistry } from "../schemas/schema-registry.ts";
import { PluginHost } from "./plugin-host.ts";
import { pluginRoutes, type PluginRoutesOptions } from "./routes.ts";

export interface PluginHostDependencies {
  config: HubConfig;
  logger: Logger;
  schemas: SchemaRegistry;
  registry: Registry;
  redisUrl: string;
  /** Where KEFU_PLUGIN_SECRET_* come from. */
  env: Readonly<Record<string, string | undefined>>;
}

/** Builds the plugin host from the hub config and starts it (runner up, every plugin folder loaded). */
export async function startPluginHost({ config, logger, schemas, registry, redisUrl, env }: PluginHostDependencies): Promise<PluginHost> {
  const host = new PluginHost({
    dir: resolve(config.pluginsDir),
    schemas,
    logger: logger.child({ module: "plugins" }),
    registry,
    settings: config.plugins,
    kinds: config.pluginKinds,
    runner: { cache: { kind: "redis", url: redisUrl, prefix: config.redisPrefix }, logLevel: config.logLevel },
    env,
    watch: config.pluginWatch,
  });
  try {
    await host.start();
  } catch (error) {
    await host.close();
    throw error;
  }
  return host;
}

/** The plugin host as a HubModule: its admin routes, readiness (the runner is up) and close. */
export function pluginModule(options: PluginRoutesOptions): HubModule {
  return {
    name: "plugins",
    router: pluginRoutes(options),
    readiness: () => options.host.readiness(),
    close: () => options.host.close(),
  };
}
