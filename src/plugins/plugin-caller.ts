import { HubError } from "../http/errors.ts";

/** The kinds of plugin and the methods each one exports. */
export const PLUGIN_METHODS = {
  orders: ["getOrder"],
  payments: ["getPayments"],
  logistics: ["track"],
  crm: ["getCustomer"],
  transform: ["inbound"],
} as const;

export type PluginKind = keyof typeof PLUGIN_METHODS;

/**
 * Methods a kind may export besides its required ones: a transform plugin's `outbound(input)`
 * shapes webhook bodies of the subscriptions that name it, and is not needed for inbound sources.
 */
export const OPTIONAL_METHODS: { readonly [K in PluginKind]: readonly string[] } = {
  orders: [],
  payments: [],
  logistics: [],
  crm: [],
  transform: ["outbound"],
};

/** Every method a plugin of `kind` can be called with. */
export function callableMethods(kind: PluginKind): readonly string[] {
  return [...PLUGIN_METHODS[kind], ...OPTIONAL_METHODS[kind]];
}

export interface PluginCallOptions {
  /** Caller's deadline; the plugin's own `limits.timeoutMs` still applies when shorter. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Who serves a kind now, or why no plugin does; `GET /v1/plugins` shows one per kind
 * (schemas/plugins/kind-binding.schema.json).
 */
export interface KindBinding {
  kind: PluginKind;
  /**
   * `served`: `plugin` answers the kind's calls (the only one loaded, or the one KEFU_PLUGIN_KINDS
   * names). `ambiguous`: several are loaded and KEFU_PLUGIN_KINDS names none. `unavailable`:
   * KEFU_PLUGIN_KINDS names a plugin that is not loaded, or is of another kind. `none`: no plugin
   * of the kind is loaded.
   */
  state: "served" | "ambiguous" | "unavailable" | "none";
  plugin: string | null;
  /** The loaded plugins of this kind, sorted by name. */
  candidates: string[];
  /** The plugin KEFU_PLUGIN_KINDS (config `pluginKinds`) names for the kind, if any. */
  configured: string | null;
  /** Why no plugin serves the kind, for a person; null when one does. */
  detail: string | null;
}

/** The error code of a call for a kind that no plugin serves. */
export function unservedCode(binding: KindBinding): "plugin_ambiguous" | "plugin_unavailable" {
  return binding.state === "ambiguous" ? "plugin_ambiguous" : "plugin_unavailable";
}

/** The HubError a call for a kind that no plugin serves rejects with. */
export function unservedError(binding: KindBinding): HubError {
  const code = unservedCode(binding);
  const extensions = { kind: binding.kind, candidates: binding.candidates, configured: binding.configured };
  return new HubError(code, binding.detail ?? `no ${binding.kind} plugin serves this call`, { extensions });
}

/**
 * How the rest of the hub calls plugins. Implemented by the plugin host (src/plugins/).
 * The result is already validated against the kind's schema; `null` means "no such record",
 * which is a normal answer. Failures reject with a HubError whose code is one of
 * `validation_failed` (the input does not match the method's input schema), `plugin_error`,
 * `plugin_output_invalid`, `plugin_timeout`, `plugin_unavailable`, `plugin_ambiguous`.
 */
export interface PluginCaller {
  call<T = unknown>(kind: PluginKind, method: string, input: unknown, options?: PluginCallOptions): Promise<T | null>;
  /** The name of the plugin that serves `kind` now, if any (`binding(kind).plugin`). */
  pluginFor(kind: PluginKind): string | undefined;
  /** Who serves `kind` now, or why no plugin does. */
  binding(kind: PluginKind): KindBinding;
}
