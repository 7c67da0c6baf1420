import { randomUUID } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Counter, Histogram, Registry } from "prom-client";
import { HubError, isHubError } from "../http/errors.ts";
import type { SchemaRegistry } from "../schemas/schema-registry.ts";
import { decodeResult, outcomeOf, toHubError, withSignal, type CallOutcome, type CallSite } from "./call-outcome.ts";
import { PLUGIN_METHODS, type PluginCallOptions, type PluginCaller, type PluginKind } from "./plugin-caller.ts";
import { preparePlugin, type PluginManifest, type PluginSettings } from "./plugin-loader.ts";
import { createPluginMetrics } from "./plugin-metrics.ts";
import { PluginStats } from "./plugin-stats.ts";
import { watchPlugins } from "./plugin-watcher.ts";
import { RunnerClient, type RunnerReplyError, type RunnerSend } from "./runner-client.ts";
import type { FakeRoute, FromRunner, LoadSpec, RunnerInit } from "./runner/protocol.ts";

export type PluginState = "ready" | "failed" | "reloading";

export interface PluginInfo {
  name: string;
  kind: PluginKind | null;
  version: string | null;
  state: PluginState;
  calls: number;
  errors: number;
  p50Ms: number | null;
  p99Ms: number | null;
  lastError: { message: string; at: string } | null;
  loadedAt: string | null;
  restarts: number;
}

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

interface Version {
  instance: string;
  spec: LoadSpec;
  manifest: PluginManifest;
  inFlight: number;
  retired: boolean;
  loadedAt: string;
}

interface PluginRecord {
  name: string;
  dir: string;
  state: PluginState;
  active?: Version;
  lastError?: { message: string; at: string };
  stats: PluginStats;
  restarts: number;
  /** Loads of this plugin run one after another. */
  queue: Promise<unknown>;
}

/**
 * The plugin host: loads plugin folders, keeps one isolate per plugin version in the supervised
 * runner process, calls them with deadlines, validates what they return, swaps versions
 * atomically on reload. It is the hub's {@link PluginCaller}.
 */
export class PluginHost implements PluginCaller {
  #options: PluginHostOptions;
  #records = new Map<string, PluginRecord>();
  #runner: RunnerClient;
  #duration: Histogram<"plugin" | "method" | "outcome">;
  #restartsTotal: Counter<"plugin" | "reason">;
  #stopWatching: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: PluginHostOptions) {
    this.#options = options;
    const metrics = createPluginMetrics(options.registry);
    this.#duration = metrics.duration;
    this.#restartsTotal = metrics.restarts;
    this.#runner = new RunnerClient({
      logger: options.logger,
      init: options.runner,
      onRestart: (send) => this.#reloadIntoRunner(send),
      onEvent: (message) => this.#onRunnerEvent(message),
    });
  }

  /** Starts the runner and loads every plugin folder; a plugin that fails is marked `failed`. */
  async start(): Promise<void> {
    await this.#runner.start();
    await Promise.all(this.#discover().map((name) => this.#load(name, "start")));
    if (this.#options.watch) {
      this.#stopWatching = watchPlugins({
        dir: this.#options.dir,
        debounceMs: this.#options.watchDebounceMs ?? 300,
        logger: this.#options.logger,
        onChange: (name) => void this.#reloadChanged(name),
      });
    }
  }

  /** A watched folder changed: reload it. Never rejects; each failure is logged once. */
  async #reloadChanged(name: string): Promise<void> {
    try {
      await this.reload(name);
    } catch (error) {
      // A version that fails to load was logged by #loadNow with its reason (and kept in lastError).
      if (isHubError(error) && error.code === "unprocessable") return;
      if (isHubError(error) && error.code === "not_found") {
        this.#options.logger.debug({ plugin: name }, "a changed folder is not a plugin this hub loads (disabled by config, or gone); not reloaded");
        return;
      }
      this.#options.logger.error({ plugin: name, err: error }, "hot reload of a changed plugin failed");
    }
  }

  #discover(): string[] {
    if (!existsSync(this.#options.dir)) {
      this.#options.logger.warn({ dir: this.#options.dir }, "plugins folder does not exist; no plugins loaded");
      return [];
    }
    const names: string[] = [];
    for (const entry of readdirSync(this.#options.dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || (this.#options.only && !this.#options.only.includes(entry.name))) continue;
      if (!existsSync(join(this.#options.dir, entry.name, "plugin.json"))) {
        this.#options.logger.debug({ folder: entry.name }, "skipping a folder without plugin.json");
      } else if (this.#options.settings?.[entry.name]?.enabled === false) {
        this.#options.logger.info({ plugin: entry.name }, "plugin disabled by config");
      } else {
        names.push(entry.name);
      }
    }
    return names.sort();
  }

  /** Reloads one plugin (or loads a new folder). Rejects with `unprocessable` when the new version fails; the old one keeps serving. */
  async reload(name: string): Promise<PluginInfo> {
    if (!this.#records.has(name) && !this.#discover().includes(name)) throw new HubError("not_found", `no plugin named ${name}`);
    const failure = await this.#load(name, "reload");
    const info = this.info(name);
    if (failure !== undefined) {
      const serving = this.#records.get(name)?.active ? "; the previous version keeps serving" : "";
      throw new HubError("unprocessable", `reloading plugin ${name} failed: ${failure}${serving}`, { extensions: { plugin: info } });
    }
    return info;
  }

  /** Loads a new version next to the current one and swaps; answers why it failed, if it did. */
  #load(name: string, why: "start" | "reload"): Promise<string | undefined> {
    let record = this.#records.get(name);
    if (!record) {
      record = { name, dir: join(this.#options.dir, name), state: "reloading", stats: new PluginStats(), restarts: 0, queue: Promise.resolve() };
      this.#records.set(name, record);
    }
    const target = record;
    const run = target.queue.then(() => this.#loadNow(target, why));
    target.queue = run.catch(() => {});
    return run;
  }

  async #loadNow(record: PluginRecord, why: "start" | "reload"): Promise<string | undefined> {
    const previous = record.active;
    record.state = "reloading";
    try {
      const prepared = await preparePlugin(record.dir, { schemas: this.#options.schemas, settings: this.#options.settings?.[record.name], env: this.#options.env });
      const spec: LoadSpec = { ...prepared.spec, instance: `${record.name}@${prepared.manifest.version}#${randomUUID().slice(0, 8)}` };
      const exported = (await this.#runner.request({ t: "load", spec }, 10_000)).split(",").filter(Boolean);
      const missing = PLUGIN_METHODS[prepared.manifest.kind].filter((method) => !exported.includes(method));
      if (missing.length > 0) {
        this.#unload(record.name, spec.instance);
        throw new Error(`a ${prepared.manifest.kind} plugin must export ${missing.map((m) => `${m}()`).join(", ")} from ${prepared.manifest.entry}`);
      }
      // The swap: from here new calls use the new version; calls in flight finish on the old one.
      record.active = { instance: spec.instance, spec, manifest: prepared.manifest, inFlight: 0, retired: false, loadedAt: new Date().toISOString() };
      record.state = "ready";
      if (previous) {
        previous.retired = true;
        this.#unloadIfIdle(record.name, previous);
        this.#restartsTotal.inc({ plugin: record.name, reason: "reload" });
      }
      this.#options.logger.info({ plugin: record.name, version: prepared.manifest.version, kind: prepared.manifest.kind }, why === "start" ? "plugin loaded" : "plugin reloaded");
      return undefined;
    } catch (error) {
      const message = (error as Error).message;
      record.lastError = { message: `load failed: ${message}`, at: new Date().toISOString() };
      record.state = previous ? "ready" : "failed";
      this.#options.logger.error({ plugin: record.name, reason: message }, previous ? "plugin reload failed; the previous version keeps serving" : "plugin failed to load");
      return message;
    }
  }

  #unloadIfIdle(plugin: string, version: Version): void {
    if (version.retired && version.inFlight === 0) this.#unload(plugin, version.instance);
  }

  #unload(plugin: string, instance: string): void {
    this.#runner.request({ t: "unload", instance }, 5000).catch((error: unknown) => {
      if ((error as RunnerReplyError).error?.kind === "unavailable") {
        // The runner that held the isolate died, and the isolate with it; a restarted runner only
        // gets the active versions, so there is nothing left to unload.
        this.#options.logger.debug({ plugin, instance, reason: (error as Error).message }, "plugin version not unloaded: its runner is gone, and the isolate with it");
        return;
      }
      this.#options.logger.warn({ plugin, instance, err: error }, "could not unload a replaced plugin version; its isolate keeps its memory in the runner until the runner restarts");
    });
  }

  /** After a runner restart: the current version of every plugin goes into the new runner. */
  async #reloadIntoRunner(send: RunnerSend): Promise<void> {
    await Promise.all(
      [...this.#records.values()].map(async (record) => {
        if (!record.active) return;
        this.#restartsTotal.inc({ plugin: record.name, reason: "runner_crash" });
        record.restarts++;
        try {
          await send({ t: "load", spec: record.active.spec }, 10_000);
        } catch (error) {
          // Its calls fail with plugin_unavailable until the next reload or runner restart.
          record.lastError = { message: `reload after a runner restart failed: ${(error as Error).message}`, at: new Date().toISOString() };
          this.#options.logger.error({ plugin: record.name, err: error }, "could not load a plugin into the restarted runner; its calls fail until it is reloaded");
        }
      }),
    );
  }

  #onRunnerEvent(message: Extract<FromRunner, { t: "log" | "restarted" }>): void {
    if (message.t === "log") {
      this.#options.logger[message.level]({ plugin: message.plugin, ...message.fields }, message.msg);
      return;
    }
    const record = this.#records.get(message.plugin);
    if (record) record.restarts++;
    this.#restartsTotal.inc({ plugin: message.plugin, reason: message.reason });
    this.#options.logger.warn({ plugin: message.plugin, reason: message.reason }, "plugin isolate replaced");
  }

  pluginFor(kind: PluginKind): string | undefined {
    const chosen = this.#options.kinds?.[kind];
    if (chosen) return this.#records.get(chosen)?.active?.manifest.kind === kind ? chosen : undefined;
    const candidates = [...this.#records.values()].filter((record) => record.active?.manifest.kind === kind);
    return candidates.length === 1 ? candidates[0]?.name : undefined;
  }

  async call<T = unknown>(kind: PluginKind, method: string, input: unknown, options: PluginCallOptions = {}): Promise<T | null> {
    const name = this.pluginFor(kind);
    if (!name) {
      const several = [...this.#records.values()].filter((record) => record.active?.manifest.kind === kind).map((record) => record.name);
      const why = several.length > 1 ? `several ${kind} plugins are loaded (${several.join(", ")}); name one in config pluginKinds.${kind}` : `no ${kind} plugin is loaded`;
      throw new HubError("plugin_unavailable", why, { extensions: { kind } });
    }
    return this.invoke<T>(name, method, input, options);
  }

  /** Calls a method of a named plugin: the validated result, null, or a HubError. */
  async invoke<T = unknown>(name: string, method: string, input: unknown, options: PluginCallOptions = {}): Promise<T | null> {
    const record = this.#records.get(name);
    if (!record) throw new HubError("not_found", `no plugin named ${name}`);
    const version = record.active;
    if (!version) throw new HubError("plugin_unavailable", `plugin ${name} is not loaded: ${record.lastError?.message ?? record.state}`, { extensions: { plugin: name, method } });
    const site: CallSite = { plugin: name, kind: version.manifest.kind, method };
    if (!(PLUGIN_METHODS[site.kind] as readonly string[]).includes(method)) {
      throw new HubError("validation_failed", `a ${site.kind} plugin has no method ${method}; it has ${PLUGIN_METHODS[site.kind].join(", ")}`, { errors: [{ pointer: "/method", message: `must be one of ${PLUGIN_METHODS[site.kind].join(", ")}` }] });
    }
    const timeoutMs = Math.max(1, Math.min(version.spec.timeoutMs, options.timeoutMs ?? Infinity));
    version.inFlight++;
    const started = performance.now();
    let outcome: CallOutcome = "ok";
    try {
      const request = this.#runner.request({ t: "call", instance: version.instance, method, input: JSON.stringify(input ?? null), timeoutMs }, timeoutMs + 1000);
      const raw = await withSignal(request, options.signal, timeoutMs);
      const value = decodeResult(raw, site, this.#options.schemas);
      if (value === null) outcome = "not_found";
      return value as T | null;
    } catch (error) {
      const hubError = toHubError(error, site);
      outcome = outcomeOf(hubError);
      record.lastError = { message: hubError.message, at: new Date().toISOString() };
      throw hubError;
    } finally {
      const durationMs = performance.now() - started;
      record.stats.record(durationMs, outcome !== "ok" && outcome !== "not_found");
      this.#duration.observe({ plugin: name, method, outcome }, durationMs / 1000);
      version.inFlight--;
      this.#unloadIfIdle(name, version);
    }
  }

  /** For `kefu-hub plugin test`: answers fetches of this plugin from recorded routes instead of the network. */
  async setFakeUpstream(name: string, routes: FakeRoute[] | null): Promise<void> {
    const instance = this.#records.get(name)?.active?.instance;
    if (!instance) throw new HubError("plugin_unavailable", `plugin ${name} is not loaded`);
    await this.#runner.request({ t: "fake", instance, routes }, 5000);
  }

  list(): PluginInfo[] {
    return [...this.#records.keys()].sort().map((name) => this.info(name));
  }

  info(name: string): PluginInfo {
    const record = this.#records.get(name);
    if (!record) throw new HubError("not_found", `no plugin named ${name}`);
    const manifest = record.active?.manifest;
    return {
      name,
      kind: manifest?.kind ?? null,
      version: manifest?.version ?? null,
      state: record.state,
      calls: record.stats.calls,
      errors: record.stats.errors,
      p50Ms: record.stats.percentile(50),
      p99Ms: record.stats.percentile(99),
      lastError: record.lastError ?? null,
      loadedAt: record.active?.loadedAt ?? null,
      restarts: record.restarts,
    };
  }

  /** `"ok"` when the runner is up (failed plugins show in GET /v1/plugins, not here). */
  readiness(): string {
    return this.#runner.isUp() ? "ok" : "the plugin runner is not running";
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
