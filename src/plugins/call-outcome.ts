import { HubError } from "../http/errors.ts";
import type { SchemaRegistry } from "../schemas/schema-registry.ts";
import { toFieldErrors } from "../schemas/schema-registry.ts";
import type { PluginKind } from "./plugin-caller.ts";
import { RunnerReplyError } from "./runner-client.ts";

/** The `outcome` label of kefu_plugin_call_duration_seconds. */
export type CallOutcome = "ok" | "not_found" | "error" | "invalid" | "timeout" | "unavailable";

export interface CallSite {
  plugin: string;
  kind: PluginKind;
  method: string;
}

/** Methods whose result has a schema of its own; the others are checked against their kind's. */
const OUTPUT_SCHEMAS: Readonly<Record<string, string>> = { "transform.outbound": "plugins/outbound.schema.json" };

/**
 * The runner's answer (`o<json>`, `u`, `e<error>`, `x<error>`) → the validated result or null;
 * anything else becomes the HubError the caller sees.
 */
export function decodeResult(raw: string, site: CallSite, schemas: SchemaRegistry): unknown {
  const where = `plugin ${site.plugin} ${site.method}()`;
  const extensions = { plugin: site.plugin, method: site.method };
  switch (raw[0]) {
    case "o": {
      const value = JSON.parse(raw.slice(1)) as unknown;
      if (value === null) return null;
      const schemaId = OUTPUT_SCHEMAS[`${site.kind}.${site.method}`] ?? `plugins/${site.kind}.schema.json`;
      const validate = schemas.validator(schemaId);
      if (validate(value)) return value;
      const errors = toFieldErrors(validate.errors);
      const first = errors[0];
      throw new HubError("plugin_output_invalid", `${where} returned data that violates schemas/${schemaId}: ${first ? `${first.pointer || "/"} ${first.message}` : "invalid"}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ""}`, { errors, extensions });
    }
    case "u":
      throw new HubError("plugin_output_invalid", `${where} returned undefined; return null when the record does not exist`, { extensions });
    case "e": {
      const error = JSON.parse(raw.slice(1)) as { name: string; message: string };
      throw new HubError("plugin_error", `${where} failed: ${error.name}: ${error.message}`, { extensions: { ...extensions, pluginError: error } });
    }
    case "x": {
      const error = JSON.parse(raw.slice(1)) as { name: string; message: string };
      throw new HubError("plugin_output_invalid", `${where} returned data that is not JSON: ${error.message}`, { extensions });
    }
    default:
      throw new HubError("plugin_unavailable", `${where}: the runner gave an answer the hub does not understand`, { extensions });
  }
}

/** A failure on the way to or inside the runner → the HubError the caller sees. */
export function toHubError(error: unknown, site: CallSite): HubError {
  if (error instanceof HubError) return error;
  const where = `plugin ${site.plugin} ${site.method}()`;
  const extensions = { plugin: site.plugin, method: site.method };
  if (error instanceof RunnerReplyError) {
    const { kind, message } = error.error;
    if (kind === "timeout") return new HubError("plugin_timeout", `${where} ${message}`, { extensions });
    if (kind === "memory") return new HubError("plugin_error", `${where} ${message}`, { extensions });
    if (kind === "error") return new HubError("plugin_error", `${where} failed: ${message}`, { extensions });
    return new HubError("plugin_unavailable", `${where}: ${message}`, { extensions });
  }
  return new HubError("plugin_unavailable", `${where}: ${(error as Error).message ?? String(error)}`, { extensions, cause: error });
}

export function outcomeOf(error: HubError): CallOutcome {
  switch (error.code) {
    case "plugin_timeout":
      return "timeout";
    case "plugin_output_invalid":
      return "invalid";
    case "plugin_error":
      return "error";
    default:
      return "unavailable";
  }
}

/** The runner's reply, or a plugin_timeout when the caller's signal aborts first. */
export function withSignal<T>(work: Promise<T>, signal: AbortSignal | undefined, timeoutMs: number): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(new HubError("plugin_timeout", `the caller gave up before the call (deadline ${timeoutMs} ms)`));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new HubError("plugin_timeout", "the caller gave up waiting for the plugin"));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
