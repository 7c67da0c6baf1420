import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { HubError, isHubError } from "../http/errors.ts";
import { degradedState } from "../hub-module.ts";
import type { SchemaRegistry } from "../schemas/schema-registry.ts";
import { KindBindings } from "./kind-bindings.ts";
import { unservedError, type KindBinding, type PluginCallOptions, type PluginCaller, type PluginKind } from "./plugin-caller.ts";
import { discoverPlugins } from "./plugin-discovery.ts";
import { createInputCheck } from "./plugin-input.ts";
import { PluginInvoker } from "./plugin-invoker.ts";
import type { PluginSettings } from "./plugin-loader.ts";
import { createPluginMetrics } from "./plugin-metrics.ts";
import { PluginRecords } from "./plugin-record.ts";
import { pluginInfo, type PluginInfo } from "./plugin-status.ts";
import { watchPlugins } from "./plugin-watcher.ts";
import { RunnerClient } from "./runner-client.ts";
import { runnerEvents } from "./runner-events.ts";
import type { FakeRoute, RunnerInit, RunnerMemory } from "./runner/protocol.ts";
import { VersionLoader } from "./version-loader.ts";
import { VersionSwap } from "./version-swap.ts";

export type { PluginInfo } from "./plugin-status.ts";
export type { PluginState } from "./plugin-record.ts";

export interface PluginHostOptions {
  /** Absolute path of the plugins folder. */
  dir: string;
  schemas: SchemaRegistry;
  logger: Logger;
  /** The hub's metrics registry. */
  registry: Registry;
  /** `plugins.<name>` of the config. @defaultValue {} */
  settings?: Readonly<Record<string, PluginSettings>>;
  /** Which plugin serves a kind when several could. @defaultValue {} */
  kinds?: Readonly<Partial<Record<PluginKind, string>>>;
  runner: RunnerInit;
  /** Where `KEFU_PLUGIN_SECRET_*` are read. */
  env: Readonly<Record<string, string | undefined>>;
  /** Reload plugins when their files change. @defaultValue false */
  watch?: boolean;
  /** @defaultValue 300 */
  watchDebounceMs?: number;
  /** Load only these folders (`kefu-hub plugin test`). @defaultValue every folder with a plugin.json */
  only?: readonly string[];
}

/**
 * The plugin host: the hub's {@link PluginCaller}. It puts together the parts that each own one
 * concept — discovery (plugin-discovery.ts), loading and the version swap (version-loader.ts,
 * version-swap.ts), which plugin serves each kind (kind-bindings.ts), input checks
 * (plugin-input.ts), calls (plugin-invoker.ts), the runner's events (runner-events.ts) and the
 * status shown by the admin API (plugin-status.ts) — over one set of plugin records.
 */
export class PluginHost implements PluginCaller {
  readonly #options: PluginHostOptions;
  readonly #records = new PluginRecords();
  readonly #runner: RunnerClient;
  readonly #loader: VersionLoader;
  readonly #invoker: PluginInvoker;
  readonly #bindings: KindBindings;
  /** Set once every folder had its first load: from then on, binding changes are logged as they happen. */
  #started = false;
  #stopWatching: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: PluginHostOptions) {
    this.#options = options;
    const { logger, schemas } = options;
    const metrics = createPluginMetrics(options.registry);
    this.#runner = new RunnerClient({ logger, init: options.runner, ...runnerEvents({ records: this.#records, logger, restarts: metrics.restarts }) });
    const swap = new VersionSwap({ runner: this.#runner, logger, restarts: metrics.restarts });
    this.#bindings = new KindBindings({ records: this.#records, logger, ...(options.kinds ? { configured: options.kinds } : {}) });
    this.#loader = new VersionLoader({
      dir: options.dir, records: this.#records, swap, runner: this.#runner, schemas, logger, env: options.env,
      ...(options.settings ? { settings: options.settings } : {}),
      // During the start, plugins load side by side: a kind looks unserved until its plugin is in.
      onLoaded: () => this.#bindings.refresh({ announce: this.#started }),
    });
    this.#invoker = new PluginInvoker({ records: this.#records, swap, runner: this.#runner, schemas, checkInput: createInputCheck({ schemas }), duration: metrics.duration });
  }

  /** Starts the runner and loads every plugin folder; a plugin that fails is marked `failed`. */
  async start(): Promise<void> {
    await this.#runner.start();
    await Promise.all(this.#discover().map((name) => this.#loader.load(name, "start")));
    this.#started = true;
    this.#bindings.refresh({ announce: true });
    if (this.#options.watch) {
      this.#stopWatching = watchPlugins({
        dir: this.#options.dir,
        debounceMs: this.#options.watchDebounceMs ?? 300,
        logger: this.#options.logger,
        onChange: (name) => void this.#reloadChanged(name),
      });
    }
  }

  #discover(): string[] {
    const { dir, logger, settings, only } = this.#options;
    return discoverPlugins({ dir, logger, ...(settings ? { settings } : {}), ...(only ? { only } : {}) });
  }

  /** Reloads one plugin (or loads a new folder). Rejects with `unprocessable` when the new version fails; the old one keeps serving. */
  async reload(name: string): Promise<PluginInfo> {
    if (!this.#records.has(name) && !this.#discover().includes(name)) throw new HubError("not_found", `no plugin named ${name}`);
    const failure = await this.#loader.load(name, "reload");
    const info = this.info(name);
    if (failure !== undefined) {
      const serving = this.#records.get(name)?.active ? "; the previous version keeps serving" : "";
      throw new HubError("unprocessable", `reloading plugin ${name} failed: ${failure}${serving}`, { extensions: { plugin: info } });
    }
    return info;
  }

  /** A watched folder changed: reload it. Never rejects; each failure is logged once. */
  async #reloadChanged(name: string): Promise<void> {
    try {
      await this.reload(name);
    } catch (error) {
      // A version that fails to load was logged by the loader with its reason (and kept in lastError).
      if (isHubError(error) && error.code === "unprocessable") return;
      if (isHubError(error) && error.code === "not_found") {
        this.#options.logger.debug({ plugin: name }, "a changed folder is not a plugin this hub loads (disabled by config, or gone); not reloaded");
        return;
      }
      this.#options.logger.error({ plugin: name, err: error }, "hot reload of a changed plugin failed");
    }
  }

  pluginFor(kind: PluginKind): string | undefined {
    return this.#bindings.get(kind).plugin ?? undefined;
  }

  binding(kind: PluginKind): KindBinding {
    return this.#bindings.get(kind);
  }

  /** Who serves each kind now, for `GET /v1/plugins`. */
  kinds(): Readonly<Record<PluginKind, KindBinding>> {
    return this.#bindings.all();
  }

  /** Calls the plugin that serves `kind`; rejects `plugin_ambiguous` or `plugin_unavailable` when none does. */
  async call<T = unknown>(kind: PluginKind, method: string, input: unknown, options: PluginCallOptions = {}): Promise<T | null> {
    const binding = this.#bindings.get(kind);
    if (!binding.plugin) throw unservedError(binding);
    return this.invoke<T>(binding.plugin, method, input, options);
  }

  /** Calls a method of a named plugin: the validated result, null, or a HubError. */
  invoke<T = unknown>(name: string, method: string, input: unknown, options: PluginCallOptions = {}): Promise<T | null> {
    return this.#invoker.invoke<T>(name, method, input, options);
  }

  /** For `kefu-hub plugin test`: answers fetches of this plugin from recorded routes instead of the network. */
  async setFakeUpstream(name: string, routes: FakeRoute[] | null): Promise<void> {
    const instance = this.#records.get(name)?.active?.instance;
    if (!instance) throw new HubError("plugin_unavailable", `plugin ${name} is not loaded`);
    await this.#runner.request({ t: "fake", instance, routes }, 5000);
  }

  list(): PluginInfo[] {
    return this.#records.all().map(pluginInfo);
  }

  info(name: string): PluginInfo {
    return pluginInfo(this.#records.require(name));
  }

  /**
   * Not ready while the runner is down. Ready but degraded while a kind is ambiguous or its
   * KEFU_PLUGIN_KINDS binding names no loaded plugin: every other kind and the rest of the hub
   * still work, and every instance shares the setup, so failing readiness would take the whole
   * hub out of service for one kind (docs/plugins.md). Failed plugins show in GET /v1/plugins.
   */
  readiness(): string {
    if (!this.#runner.isUp()) return "the plugin runner is not running";
    const problems = this.#bindings.problems();
    return problems.length === 0 ? "ok" : degradedState(problems.map((binding) => `${binding.kind}: ${binding.detail ?? binding.state}`).join("; "));
  }

  /** The runner process's memory and every isolate's heap (for /godmode); rejects when the runner does not answer within 1 s. */
  async memoryReport(): Promise<RunnerMemory> {
    return JSON.parse(await this.#runner.request({ t: "memory" }, 1000)) as RunnerMemory;
  }

  /** The runner's process id (tests use it to kill the runner). */
  get runnerPid(): number | undefined {
    return this.#runner.pid;
  }

  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      this.#stopWatching?.();
      await this.#runner.close();
    })());
  }
}
