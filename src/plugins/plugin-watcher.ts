import { existsSync, watch, type FSWatcher } from "node:fs";
import { join, sep } from "node:path";
import type { Logger } from "pino";

export interface WatchOptions {
  dir: string;
  /** Quiet time after the last change of a plugin before it is reloaded (editors write in bursts). */
  debounceMs: number;
  logger: Logger;
  /** Called once per burst of changes, with the plugin folder's name. */
  onChange: (plugin: string) => void;
}

/** Watches the plugins folder recursively; answers a function that stops watching. */
export function watchPlugins({ dir, debounceMs, logger, onChange }: WatchOptions): () => void {
  if (!existsSync(dir)) return () => {};
  const timers = new Map<string, NodeJS.Timeout>();
  let watcher: FSWatcher;
  try {
    watcher = watch(dir, { recursive: true, persistent: false }, (_event, filename) => {
      if (!filename) return;
      const plugin = filename.toString().split(sep)[0] ?? "";
      if (!plugin || plugin.startsWith(".") || filename.toString().includes(`${sep}node_modules${sep}`)) return;
      if (!existsSync(join(dir, plugin, "plugin.json"))) return;
      clearTimeout(timers.get(plugin));
      timers.set(plugin, setTimeout(() => {
        timers.delete(plugin);
        logger.info({ plugin }, "plugin files changed; reloading");
        onChange(plugin);
      }, debounceMs));
    });
  } catch (error) {
    logger.warn({ err: error, dir }, "cannot watch the plugins folder; hot reload is off");
    return () => {};
  }
  watcher.on("error", (error) => logger.warn({ err: error }, "plugin watcher failed; hot reload is off"));
  return () => {
    watcher.close();
    for (const timer of timers.values()) clearTimeout(timer);
    timers.clear();
  };
}
