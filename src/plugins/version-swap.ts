import type { Logger } from "pino";
import type { Counter } from "prom-client";
import type { PluginRecord, PluginVersion } from "./plugin-record.ts";
import type { RunnerClient, RunnerReplyError } from "./runner-client.ts";

export interface VersionSwapOptions {
  runner: Pick<RunnerClient, "request">;
  logger: Logger;
  /** `kefu_plugin_restarts_total`; a swap counts as reason `reload`. */
  restarts: Counter<"plugin" | "reason">;
  /** How long the runner may take to unload an isolate. @defaultValue 5000 */
  unloadTimeoutMs?: number;
}

/**
 * The atomic swap of plugin versions: new calls use the newest version at once, calls in flight
 * finish on the one they started on, and a replaced version is unloaded when its last call ends.
 */
export class VersionSwap {
  readonly #options: VersionSwapOptions;

  constructor(options: VersionSwapOptions) {
    this.#options = options;
  }

  /** From now on new calls of `record` use `next`. */
  swapIn(record: PluginRecord, next: PluginVersion): void {
    const previous = record.active;
    record.active = next;
    record.state = "ready";
    if (!previous) return;
    previous.retired = true;
    this.#unloadIfIdle(record.name, previous);
    this.#options.restarts.inc({ plugin: record.name, reason: "reload" });
  }

  /** A call starts on `version`: it stays loaded until {@link leave}. */
  enter(version: PluginVersion): void {
    version.inFlight++;
  }

  leave(plugin: string, version: PluginVersion): void {
    version.inFlight--;
    this.#unloadIfIdle(plugin, version);
  }

  /** Unloads an instance that was loaded but refused (it lacks a method of its kind). */
  discard(plugin: string, instance: string): void {
    this.#unload(plugin, instance);
  }

  #unloadIfIdle(plugin: string, version: PluginVersion): void {
    if (version.retired && version.inFlight === 0) this.#unload(plugin, version.instance);
  }

  #unload(plugin: string, instance: string): void {
    const { runner, logger, unloadTimeoutMs = 5000 } = this.#options;
    runner.request({ t: "unload", instance }, unloadTimeoutMs).catch((error: unknown) => {
      if ((error as RunnerReplyError).error?.kind === "unavailable") {
        // The runner that held the isolate died, and the isolate with it; a restarted runner only
        // gets the active versions, so there is nothing left to unload.
        logger.debug({ plugin, instance, reason: (error as Error).message }, "plugin version not unloaded: its runner is gone, and the isolate with it");
        return;
      }
      logger.warn({ plugin, instance, err: error }, "could not unload a replaced plugin version; its isolate keeps its memory in the runner until the runner restarts");
    });
  }
}
