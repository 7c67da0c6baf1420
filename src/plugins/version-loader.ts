import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { Logger } from "pino";
import type { SchemaRegistry } from "../schemas/schema-registry.ts";
import { LoadQueue } from "./load-queue.ts";
import { PLUGIN_METHODS } from "./plugin-caller.ts";
import { preparePlugin, type PluginSettings } from "./plugin-loader.ts";
import { noteError, type PluginRecord, type PluginRecords } from "./plugin-record.ts";
import type { RunnerClient } from "./runner-client.ts";
import type { LoadSpec } from "./runner/protocol.ts";
import type { VersionSwap } from "./version-swap.ts";

export interface VersionLoaderOptions {
  /** Absolute path of the plugins folder. */
  dir: string;
  records: PluginRecords;
  swap: VersionSwap;
  runner: Pick<RunnerClient, "request">;
  schemas: SchemaRegistry;
  logger: Logger;
  /** `plugins.<name>` of the config. @defaultValue {} */
  settings?: Readonly<Record<string, PluginSettings>>;
  /** Where `KEFU_PLUGIN_SECRET_*` are read. */
  env: Readonly<Record<string, string | undefined>>;
  /** Told after every load, successful or not: which plugin serves a kind may have changed. */
  onLoaded?: () => void;
  /** How long the runner may take to build an isolate. @defaultValue 10000 */
  loadTimeoutMs?: number;
}

export type LoadReason = "start" | "reload";

/**
 * Loads a plugin folder as a new version: manifest, config and bundle (plugin-loader.ts), an
 * isolate in the runner, a check that it exports its kind's methods, then the swap. Loads of one
 * plugin run one after another.
 */
export class VersionLoader {
  readonly #options: VersionLoaderOptions;
  readonly #queue = new LoadQueue();

  constructor(options: VersionLoaderOptions) {
    this.#options = options;
  }

  /** Loads (or reloads) `name`; answers why it failed, if it did. Never rejects. */
  load(name: string, why: LoadReason): Promise<string | undefined> {
    const record = this.#options.records.ensure(name, join(this.#options.dir, name));
    return this.#queue.run(name, async () => {
      const failure = await this.#loadNow(record, why);
      this.#options.onLoaded?.();
      return failure;
    });
  }

  async #loadNow(record: PluginRecord, why: LoadReason): Promise<string | undefined> {
    const { schemas, settings, env, runner, swap, logger, loadTimeoutMs = 10_000 } = this.#options;
    const previous = record.active;
    record.state = "reloading";
    try {
      const prepared = await preparePlugin(record.dir, { schemas, settings: settings?.[record.name], env });
      const { manifest } = prepared;
      const spec: LoadSpec = { ...prepared.spec, instance: `${record.name}@${manifest.version}#${randomUUID().slice(0, 8)}` };
      const exported = (await runner.request({ t: "load", spec }, loadTimeoutMs)).split(",").filter(Boolean);
      const missing = PLUGIN_METHODS[manifest.kind].filter((method) => !exported.includes(method));
      if (missing.length > 0) {
        swap.discard(record.name, spec.instance);
        throw new Error(`a ${manifest.kind} plugin must export ${missing.map((m) => `${m}()`).join(", ")} from ${manifest.entry}`);
      }
      swap.swapIn(record, { instance: spec.instance, spec, manifest, inFlight: 0, retired: false, loadedAt: new Date().toISOString() });
      logger.info({ plugin: record.name, version: manifest.version, kind: manifest.kind }, why === "start" ? "plugin loaded" : "plugin reloaded");
      return undefined;
    } catch (error) {
      const message = (error as Error).message;
      noteError(record, `load failed: ${message}`);
      record.state = previous ? "ready" : "failed";
      logger.error({ plugin: record.name, reason: message }, previous ? "plugin reload failed; the previous version keeps serving" : "plugin failed to load");
      return message;
    }
  }
}
