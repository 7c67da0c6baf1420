import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { PluginSettings } from "./plugin-loader.ts";

export interface DiscoveryOptions {
  /** Absolute path of the plugins folder. */
  dir: string;
  logger: Logger;
  /** `plugins.<name>` of the config; `enabled: false` leaves a folder out. @defaultValue {} */
  settings?: Readonly<Record<string, PluginSettings>>;
  /** Only these folders (`kefu-hub plugin test`). @defaultValue every folder */
  only?: readonly string[];
}

/** The plugin folders to load: sub-folders with a plugin.json that the config does not disable, sorted. */
export function discoverPlugins({ dir, logger, settings, only }: DiscoveryOptions): string[] {
  if (!existsSync(dir)) {
    logger.warn({ dir }, "plugins folder does not exist; no plugins loaded");
    return [];
  }
  const names: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || (only && !only.includes(entry.name))) continue;
    if (!existsSync(join(dir, entry.name, "plugin.json"))) {
      logger.debug({ folder: entry.name }, "skipping a folder without plugin.json");
    } else if (settings?.[entry.name]?.enabled === false) {
      logger.info({ plugin: entry.name }, "plugin disabled by config");
    } else {
      names.push(entry.name);
    }
  }
  return names.sort();
}
