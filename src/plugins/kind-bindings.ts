import type { Logger } from "pino";
import { PLUGIN_METHODS, unservedCode, type KindBinding, type PluginKind } from "./plugin-caller.ts";
import type { PluginRecords } from "./plugin-record.ts";

const KINDS = Object.keys(PLUGIN_METHODS) as PluginKind[];

/**
 * Kinds whose plugins the hub calls by name, never by kind: each inbound source names its
 * transform plugin. Several of them loaded is the normal case, not a setup problem to warn about
 * or to show as degraded readiness.
 */
const CALLED_BY_NAME: ReadonlySet<PluginKind> = new Set(["transform"]);

export interface KindBindingsOptions {
  records: PluginRecords;
  /** KEFU_PLUGIN_KINDS (config `pluginKinds`): the plugin chosen per kind. @defaultValue {} */
  configured?: Readonly<Partial<Record<PluginKind, string>>>;
  logger: Logger;
}

/**
 * Which plugin serves each kind. With one plugin of a kind loaded, that one; with several, the one
 * KEFU_PLUGIN_KINDS names — and without a name, none: the hub does not guess, it says so (here in
 * the log, in `GET /v1/plugins` and `/readyz`, and as `plugin_ambiguous` to the callers).
 * Resolved again after every load, so that a call only reads the answer.
 */
export class KindBindings {
  readonly #options: KindBindingsOptions;
  #current: Readonly<Record<PluginKind, KindBinding>>;
  /** What was last logged per kind, so that each change is logged once. */
  readonly #announced = new Map<PluginKind, string>();

  constructor(options: KindBindingsOptions) {
    this.#options = options;
    this.#current = this.#resolveAll();
  }

  get(kind: PluginKind): KindBinding {
    return this.#current[kind];
  }

  /** Every kind, in the order of PLUGIN_METHODS. */
  all(): Readonly<Record<PluginKind, KindBinding>> {
    return this.#current;
  }

  /** The kinds whose calls fail because of the plugin setup (ambiguous, or a binding that names no loaded plugin of the kind). */
  problems(): KindBinding[] {
    return KINDS.map((kind) => this.#current[kind]).filter((binding) => (binding.state === "ambiguous" && !CALLED_BY_NAME.has(binding.kind)) || binding.state === "unavailable");
  }

  /** Resolves every kind from the plugins loaded now; with `announce`, logs what changed since the last announcement. */
  refresh({ announce }: { announce: boolean }): void {
    this.#current = this.#resolveAll();
    if (announce) this.#announce();
  }

  #resolveAll(): Record<PluginKind, KindBinding> {
    const { records, configured = {} } = this.#options;
    return Object.fromEntries(KINDS.map((kind) => [kind, resolveKind(kind, records, configured[kind])])) as Record<PluginKind, KindBinding>;
  }

  #announce(): void {
    const { logger } = this.#options;
    for (const binding of Object.values(this.#current)) {
      const key = `${binding.state}:${binding.plugin ?? ""}:${binding.candidates.join(",")}`;
      const before = this.#announced.get(binding.kind);
      if (before === key) continue;
      this.#announced.set(binding.kind, key);
      const fields = { kind: binding.kind, plugin: binding.plugin, candidates: binding.candidates, configured: binding.configured };
      if ((binding.state === "ambiguous" && !CALLED_BY_NAME.has(binding.kind)) || binding.state === "unavailable") {
        logger.warn(fields, `${binding.kind} calls fail with ${unservedCode(binding)}: ${binding.detail ?? binding.state}`);
      } else if (binding.state === "served" && (binding.configured || (before !== undefined && !before.startsWith("served:")))) {
        logger.info(fields, `${binding.kind} calls go to ${binding.plugin}${binding.configured ? " (KEFU_PLUGIN_KINDS)" : ""}`);
      }
    }
  }
}

/** Who serves `kind` given the loaded plugins and the configured choice. */
export function resolveKind(kind: PluginKind, records: PluginRecords, configured: string | undefined): KindBinding {
  const candidates = records.activeOfKind(kind);
  const base = { kind, candidates, configured: configured ?? null };
  if (configured) {
    const chosen = records.get(configured);
    const chosenKind = chosen?.active?.manifest.kind;
    if (chosenKind === kind) return { ...base, state: "served", plugin: configured, detail: null };
    const why = !chosen
      ? `no plugin named ${configured} is loaded`
      : chosenKind
        ? `${configured} is a ${chosenKind} plugin`
        : `${configured} failed to load (${chosen.lastError?.message ?? chosen.state})`;
    const others = candidates.length > 0 ? `; loaded ${kind} plugins: ${candidates.join(", ")}` : "";
    return { ...base, state: "unavailable", plugin: null, detail: `KEFU_PLUGIN_KINDS names ${configured} for ${kind}, but ${why}${others}` };
  }
  const [only, ...rest] = candidates;
  if (only === undefined) return { ...base, state: "none", plugin: null, detail: `no ${kind} plugin is loaded` };
  if (rest.length === 0) return { ...base, state: "served", plugin: only, detail: null };
  return {
    ...base,
    state: "ambiguous",
    plugin: null,
    detail: `several ${kind} plugins are loaded (${candidates.join(", ")}) and KEFU_PLUGIN_KINDS names none of them; set KEFU_PLUGIN_KINDS=${kind}=<one of them> (config pluginKinds.${kind})`,
  };
}
