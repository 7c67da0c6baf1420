import type { Histogram } from "prom-client";
import { HubError } from "../http/errors.ts";
import type { SchemaRegistry } from "../schemas/schema-registry.ts";
import { decodeResult, outcomeOf, toHubError, withSignal, type CallOutcome, type CallSite } from "./call-outcome.ts";
import { callableMethods, type PluginCallOptions } from "./plugin-caller.ts";
import type { InputCheck } from "./plugin-input.ts";
import { noteError, type PluginRecords } from "./plugin-record.ts";
import type { RunnerClient } from "./runner-client.ts";
import type { VersionSwap } from "./version-swap.ts";

export interface PluginInvokerOptions {
  records: PluginRecords;
  swap: VersionSwap;
  runner: Pick<RunnerClient, "request">;
  schemas: SchemaRegistry;
  /** Refuses an input that does not match its method's schema (plugin-input.ts). */
  checkInput: InputCheck;
  /** `kefu_plugin_call_duration_seconds`. */
  duration: Histogram<"plugin" | "method" | "outcome">;
  /** How much longer than the call's deadline the runner may take to answer at all. @defaultValue 1000 */
  backstopMs?: number;
}

/**
 * One call of a named plugin's method: method and input checked before anything reaches the
 * sandbox (a refused input is the caller's mistake, not the plugin's: it is neither measured nor
 * counted), run on the active version with its deadline, its result validated against the
 * kind's schema, measured (metrics and GET /v1/plugins).
 */
export class PluginInvoker {
  readonly #options: PluginInvokerOptions;
  /** The histogram's child per plugin, method and outcome, looked up once: observe({…}) hashes the labels on every call. */
  readonly #durationOf = new Map<string, { observe(seconds: number): void }>();

  constructor(options: PluginInvokerOptions) {
    this.#options = options;
  }

  /** The validated result, null ("no such record"), or a HubError. */
  async invoke<T = unknown>(name: string, method: string, input: unknown, options: PluginCallOptions = {}): Promise<T | null> {
    const { records, swap, runner, schemas, checkInput, duration, backstopMs = 1000 } = this.#options;
    const record = records.require(name);
    const version = record.active;
    if (!version) throw new HubError("plugin_unavailable", `plugin ${name} is not loaded: ${record.lastError?.message ?? record.state}`, { extensions: { plugin: name, method } });
    const site: CallSite = { plugin: name, kind: version.manifest.kind, method };
    checkMethod(site);
    checkInput(site, input);
    const timeoutMs = Math.max(1, Math.min(version.spec.timeoutMs, options.timeoutMs ?? Infinity));
    swap.enter(version);
    const started = performance.now();
    let outcome: CallOutcome = "ok";
    try {
      const request = runner.request({ t: "call", instance: version.instance, method, input: JSON.stringify(input ?? null), timeoutMs }, timeoutMs + backstopMs);
      const value = decodeResult(await withSignal(request, options.signal, timeoutMs), site, schemas);
      if (value === null) outcome = "not_found";
      return value as T | null;
    } catch (error) {
      const hubError = toHubError(error, site);
      outcome = outcomeOf(hubError);
      noteError(record, hubError.message);
      throw hubError;
    } finally {
      const durationMs = performance.now() - started;
      record.stats.record(durationMs, outcome !== "ok" && outcome !== "not_found");
      const labels = `${name}\n${method}\n${outcome}`;
      let child = this.#durationOf.get(labels);
      if (!child) this.#durationOf.set(labels, (child = duration.labels({ plugin: name, method, outcome })));
      child.observe(durationMs / 1000);
      swap.leave(name, version);
    }
  }
}

function checkMethod({ kind, method }: CallSite): void {
  const methods = callableMethods(kind);
  if (methods.includes(method)) return;
  throw new HubError("validation_failed", `a ${kind} plugin has no method ${method}; it has ${methods.join(", ")}`, {
    errors: [{ pointer: "/method", message: `must be one of ${methods.join(", ")}` }],
  });
}
