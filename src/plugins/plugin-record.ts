import { HubError } from "../http/errors.ts";
import type { PluginKind } from "./plugin-caller.ts";
import type { PluginManifest } from "./plugin-loader.ts";
import { PluginStats } from "./plugin-stats.ts";
import type { LoadSpec } from "./runner/protocol.ts";

export type PluginState = "ready" | "failed" | "reloading";

/** One loaded version of a plugin: an isolate in the runner. */
export interface PluginVersion {
  instance: string;
  spec: LoadSpec;
  manifest: PluginManifest;
  /** Calls running on this version now; a retired version is unloaded when it reaches 0. */
  inFlight: number;
  /** Replaced by a newer version: no new call starts on it. */
  retired: boolean;
  loadedAt: string;
}

/** What the host knows of one plugin folder, across its versions. */
export interface PluginRecord {
  readonly name: string;
  readonly dir: string;
  state: PluginState;
  /** The version new calls use; none until one loaded. */
  active?: PluginVersion;
  lastError?: { message: string; at: string };
  readonly stats: PluginStats;
  restarts: number;
}

/** The plugin folders the host has seen, by name. The one copy of that state, shared by the host's parts. */
export class PluginRecords {
  readonly #records = new Map<string, PluginRecord>();

  get(name: string): PluginRecord | undefined {
    return this.#records.get(name);
  }

  /** The record, or HubError `not_found`. */
  require(name: string): PluginRecord {
    const record = this.#records.get(name);
    if (!record) throw new HubError("not_found", `no plugin named ${name}`);
    return record;
  }

  has(name: string): boolean {
    return this.#records.has(name);
  }

  /** The record of a folder, created (state `reloading`, nothing loaded) on first sight. */
  ensure(name: string, dir: string): PluginRecord {
    let record = this.#records.get(name);
    if (!record) {
      record = { name, dir, state: "reloading", stats: new PluginStats(), restarts: 0 };
      this.#records.set(name, record);
    }
    return record;
  }

  /** Every record, sorted by name. */
  all(): PluginRecord[] {
    return [...this.#records.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The names of the plugins whose active version is of `kind`, sorted. */
  activeOfKind(kind: PluginKind): string[] {
    return this.all().filter((record) => record.active?.manifest.kind === kind).map((record) => record.name);
  }
}

/** Notes a failure on the record for `GET /v1/plugins` (`lastError`). */
export function noteError(record: PluginRecord, message: string): void {
  record.lastError = { message, at: new Date().toISOString() };
}
