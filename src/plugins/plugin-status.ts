import type { PluginKind } from "./plugin-caller.ts";
import type { PluginRecord, PluginState } from "./plugin-record.ts";

/** A plugin as `GET /v1/plugins` shows it (schemas/plugins/plugin-info.schema.json, without `breakers`). */
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

export function pluginInfo(record: PluginRecord): PluginInfo {
  const manifest = record.active?.manifest;
  return {
    name: record.name,
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
