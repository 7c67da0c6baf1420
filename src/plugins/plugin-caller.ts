/** The kinds of plugin and the methods each one exports. */
export const PLUGIN_METHODS = {
  orders: ["getOrder"],
  payments: ["getPayments"],
  logistics: ["track"],
  crm: ["getCustomer"],
  transform: ["inbound"],
} as const;

export type PluginKind = keyof typeof PLUGIN_METHODS;

export interface PluginCallOptions {
  /** Caller's deadline; the plugin's own `limits.timeoutMs` still applies when shorter. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * How the rest of the hub calls plugins. Implemented by the plugin host (src/plugins/).
 * The result is already validated against the kind's schema; `null` means "no such record",
 * which is a normal answer. Failures reject with a HubError whose code is one of
 * `plugin_error`, `plugin_output_invalid`, `plugin_timeout`, `plugin_unavailable`.
 */
export interface PluginCaller {
  call<T = unknown>(kind: PluginKind, method: string, input: unknown, options?: PluginCallOptions): Promise<T | null>;
  /** The name of the plugin that serves `kind` now, if any. */
  pluginFor(kind: PluginKind): string | undefined;
}
