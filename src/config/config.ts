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
  /**
   * Unset: `0.0.0.0` when API keys are configured, else `127.0.0.1` (see `listen-host.ts`).
   * @defaultValue undefined
   */
  host?: string;
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
  /** KEFU_ROUTING_RULES: ruleset file made current at start when it differs from Redis's. */
  routingRules?: string;
  /** @defaultValue 300 */
  routingReconcileSeconds: number;
  /** Deadline for the plugin-backed facts of one routing decision. @defaultValue 250 */
  routingFactTimeoutMs: number;
  /** @defaultValue 60 */
  routingFactCacheTtlSeconds: number;
  /** Routed events kept for `simulate`. @defaultValue 1000 */
  routingRecentEvents: number;
  /** IANA time zone of hourOfDay/weekday. @defaultValue "UTC" */
  timezone: string;
  /** Idempotency window of event ids, and how long events and delivery logs stay readable. @defaultValue 86400 */
  eventsDedupeSeconds: number;
  /**
   * How long a write (an ingest, a subscription or ruleset change) waits for Redis before it is
   * answered 503 `unavailable` with `Retry-After`. @defaultValue 2000
   */
  ingestTimeoutMs: number;
  /**
   * An accepted event not yet handed to delivery after this long (its process died between the
   * two steps) is handed over again by any live process. @defaultValue 2000
   */
  eventsHandoffGraceMs: number;
  /** Run fan-out and delivery workers inside `kefu-hub start`. @defaultValue true */
  deliveryWorkers: boolean;
  /** Deliveries in flight per worker process. @defaultValue 50 */
  deliveryConcurrency: number;
  /** @defaultValue 15000 */
  deliveryTimeoutMs: number;
  /** Comma-separated delays (`ms`, `s`, `m`, `h`) between attempts. @defaultValue "5s,5m,30m,2h,5h,10h,10h" */
  deliveryRetrySchedule: string;
  /** @defaultValue 3600 */
  deliveryRetryAfterMaxSeconds: number;
  /** @defaultValue 14 */
  deliveryDeadLetterDays: number;
  /** @defaultValue 120 */
  deliveryDisableAfterHours: number;
  /** CIDRs webhook URLs may reach although private/loopback/etc. @defaultValue [] */
  deliveryAllowCidrs: string[];
  /**
   * Lock of an active delivery, renewed every half of it; a dead worker's deliveries are retaken
   * within about 1.5 × this (stalled checks run every half of it). @defaultValue 5000
   */
  deliveryLockMs: number;
  /** @defaultValue 24 */
  deliverySecretOverlapHours: number;
  /** @defaultValue 30000 */
  deliveryBreakerResetMs: number;
  /** @defaultValue 50 */
  deliveryBreakerErrorPercent: number;
  /** @defaultValue 20 */
  deliveryBreakerVolumeThreshold: number;
  /**
   * Receiver origins whose connection pool and circuit breaker a process keeps; past it the least
   * recently used origin's are closed (deliveries in flight finish). @defaultValue 1000
   */
  deliveryMaxOrigins: number;
  /** How long a closed session stays readable. @defaultValue 86400 */
  sessionsRetainSeconds: number;
  /** SSE heartbeat of GET /v1/sessions/{id}/stream. @defaultValue 15000 */
  sessionsHeartbeatMs: number;
  /** An open session not read for about this long is kept deflated in memory; 0 keeps every one as bytes. */
  sessionsPackIdleSeconds: number;
  /** Redis Stream of behaviour events (field `event`); unset: no such source. */
  behaviorRedisStream?: string;
  /** Pending stream entries of a dead consumer are taken over after this long. @defaultValue 30000 */
  behaviorClaimIdleMs: number;
  /** Invalid behaviour events kept (about). @defaultValue 10000 */
  behaviorDeadLetterMax: number;
  /** NATS JetStream source of behaviour events, with behaviorNatsSubject. */
  behaviorNatsUrl?: string;
  behaviorNatsSubject?: string;
  /** Kafka source of behaviour events, with behaviorKafkaTopic. */
  behaviorKafkaBrokers?: string[];
  behaviorKafkaTopic?: string;
  /** Demo behaviour generator under `npm start` with the demo business system. @defaultValue true */
  demoBehavior: boolean;
  /** Secrets of live tokens; the first signs, all verify. @defaultValue [] (derived from the admin keys) */
  liveTokenSecrets: string[];
  /** Publications kept per live channel. @defaultValue 1000 */
  liveHistorySize: number;
  /** A live channel's history is dropped after this long without a publication. @defaultValue 86400 */
  liveHistorySeconds: number;
  /** Send buffer per live connection. @defaultValue 1048576 */
  liveMaxBufferBytes: number;
  /** Largest client frame. @defaultValue 65536 */
  liveMaxFrameBytes: number;
  /** A live connection over its send buffer this long is closed 4008. @defaultValue 5000 */
  liveSlowCloseMs: number;
  /** @defaultValue 25000 */
  livePingIntervalMs: number;
  /** How long a browser admin session lasts (not extended by use). @defaultValue 28800 */
  adminSessionTtlSeconds: number;
  /** Per-plugin settings by plugin name (see docs/plugins.md). @defaultValue {} */
  plugins: Record<string, { enabled?: boolean; config?: Record<string, unknown>; secrets?: Record<string, string> }>;
  /** Which plugin serves a kind when several are loaded. @defaultValue {} */
  pluginKinds: Partial<Record<"orders" | "payments" | "logistics" | "crm" | "transform", string>>;
  /** Reload plugins when their files change. @defaultValue true */
  pluginWatch: boolean;
  /** `kefu-hub start` starts the demo business system when demo-* plugins are loaded. @defaultValue true */
  demoBusinessSystem: boolean;
  /** @defaultValue 4010 */
  demoBusinessSystemPort: number;
  /** Longest wait for one part of an order context. @defaultValue 800 */
  contextPartTimeoutMs: number;
  /** Longest wait for a whole order context answer. @defaultValue 1500 */
  contextDeadlineMs: number;
  /** How long a context plugin call may go on (after the answer, to fill the cache) before it fails. @defaultValue 5000 */
  contextCallTimeoutMs: number;
  /** @defaultValue 30 */
  contextOrderTtlSeconds: number;
  /** @defaultValue 30 */
  contextPaymentsTtlSeconds: number;
  /** @defaultValue 60 */
  contextShipmentsTtlSeconds: number;
  /** @defaultValue 300 */
  contextCustomerTtlSeconds: number;
  /** How long past its TTL a context part may be served stale while it is refreshed. @defaultValue 300 */
  contextMaxStaleSeconds: number;
  /** Context parts kept in process (LRU). @defaultValue 10000 */
  contextCacheMaxEntries: number;
  /** Share cached context parts between hub instances through Redis. @defaultValue false */
  contextRedisCache: boolean;
  /** Calls to a plugin method within the window before its breaker may open. @defaultValue 10 */
  contextBreakerVolumeThreshold: number;
  /** Failed share of a plugin method's calls in the window that opens its breaker. @defaultValue 50 */
  contextBreakerErrorPercent: number;
  /** How long an open breaker rejects calls before one probe. @defaultValue 10000 */
  contextBreakerResetMs: number;
  /** Rolling window of the breakers' error rate. @defaultValue 10000 */
  contextBreakerWindowMs: number;
}
