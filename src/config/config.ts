export type Scope = "admin" | "ingest" | "read";

export interface ApiKeyConfig {
  key: string;
  scopes: Scope[];
}

/**
 * The hub's configuration. `schemas/config.schema.json` is the source of truth for defaults and
 * allowed values; docs/configuration.md documents each key.
 */
export interface HubConfig {
  /** @defaultValue 8080 */
  port: number;
  /** @defaultValue "0.0.0.0" */
  host: string;
  /** Unset: 127.0.0.1:6379 when it answers, else a private redis-server. */
  redisUrl?: string;
  /** @defaultValue "kefu" */
  redisPrefix: string;
  /** @defaultValue [] (npm start then generates an admin key) */
  apiKeys: ApiKeyConfig[];
  /** @defaultValue "info" */
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** @defaultValue "auto" */
  logFormat: "auto" | "json" | "pretty";
  /** @defaultValue "plugins" */
  pluginsDir: string;
  /** @defaultValue "1mb" */
  bodyLimit: string;
  /** @defaultValue 10000 */
  shutdownGraceMs: number;
}
