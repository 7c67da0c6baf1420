import type { HubConfig } from "./config.ts";

type EnvParser = (raw: string) => unknown;

export interface EnvBinding {
  key: keyof HubConfig;
  parse: EnvParser;
}

/** A whole number stays a number; anything else is kept as text so that validation names it. */
export const integer: EnvParser = (raw) => (/^-?\d+$/.test(raw.trim()) ? Number(raw) : raw);
export const text: EnvParser = (raw) => raw;
/** A decimal number stays a number; anything else is kept as text so that validation names it. */
export const decimal: EnvParser = (raw) => (/^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw);
/** JSON text; kept as text when it does not parse, so that validation names it. */
export const json: EnvParser = (raw) => {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
};
/** `KIND=NAME,KIND2=NAME2` → `{KIND: NAME}`; a malformed item is kept so that validation names it. */
export const keyValues: EnvParser = (raw) =>
  Object.fromEntries(
    raw
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item.length > 0)
      .map((item) => (item.includes("=") ? [item.slice(0, item.indexOf("=")), item.slice(item.indexOf("=") + 1)] : [item, ""])),
  );
/** `true`/`false`/`1`/`0`; anything else is kept as text so that validation names it. */
export const boolean: EnvParser = (raw) => {
  const value = raw.trim().toLowerCase();
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  return raw;
};
/** Comma-separated list; empty items dropped. */
export const list: EnvParser = (raw) =>
  raw.split(",").map((item) => item.trim()).filter((item) => item.length > 0);

/** `KEY=SCOPE+SCOPE,KEY2=SCOPE` → `[{key, scopes}]`; a malformed item is kept so that validation names it. */
export const apiKeys: EnvParser = (raw) =>
  raw
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0)
    .map((item) => {
      const at = item.lastIndexOf("=");
      if (at <= 0) return { key: item, scopes: [] };
      return { key: item.slice(0, at), scopes: item.slice(at + 1).split("+").filter(Boolean) };
    });

/** Environment variable → config key. Every entry is documented in docs/configuration.md. */
export const ENV_BINDINGS: Readonly<Record<string, EnvBinding>> = {
  PORT: { key: "port", parse: integer },
  HOST: { key: "host", parse: text },
  REDIS_URL: { key: "redisUrl", parse: text },
  KEFU_REDIS_PREFIX: { key: "redisPrefix", parse: text },
  KEFU_API_KEYS: { key: "apiKeys", parse: apiKeys },
  KEFU_LOG_LEVEL: { key: "logLevel", parse: text },
  KEFU_LOG_FORMAT: { key: "logFormat", parse: text },
  KEFU_PLUGINS_DIR: { key: "pluginsDir", parse: text },
  KEFU_BODY_LIMIT: { key: "bodyLimit", parse: text },
  KEFU_SHUTDOWN_GRACE_MS: { key: "shutdownGraceMs", parse: integer },
  KEFU_ROUTING_RULES: { key: "routingRules", parse: text },
  KEFU_ROUTING_RECONCILE_SECONDS: { key: "routingReconcileSeconds", parse: integer },
  KEFU_ROUTING_FACT_TIMEOUT_MS: { key: "routingFactTimeoutMs", parse: integer },
  KEFU_ROUTING_FACT_CACHE_TTL_SECONDS: { key: "routingFactCacheTtlSeconds", parse: integer },
  KEFU_ROUTING_RECENT_EVENTS: { key: "routingRecentEvents", parse: integer },
  KEFU_TIMEZONE: { key: "timezone", parse: text },
  KEFU_EVENTS_DEDUPE_SECONDS: { key: "eventsDedupeSeconds", parse: integer },
  KEFU_INGEST_TIMEOUT_MS: { key: "ingestTimeoutMs", parse: integer },
  KEFU_EVENTS_HANDOFF_GRACE_MS: { key: "eventsHandoffGraceMs", parse: integer },
  KEFU_DELIVERY_WORKERS: { key: "deliveryWorkers", parse: boolean },
  KEFU_DELIVERY_CONCURRENCY: { key: "deliveryConcurrency", parse: integer },
  KEFU_DELIVERY_TIMEOUT_MS: { key: "deliveryTimeoutMs", parse: integer },
  KEFU_DELIVERY_RETRY_SCHEDULE: { key: "deliveryRetrySchedule", parse: text },
  KEFU_DELIVERY_RETRY_AFTER_MAX_SECONDS: { key: "deliveryRetryAfterMaxSeconds", parse: integer },
  KEFU_DELIVERY_DEAD_LETTER_DAYS: { key: "deliveryDeadLetterDays", parse: decimal },
  KEFU_DELIVERY_DISABLE_AFTER_HOURS: { key: "deliveryDisableAfterHours", parse: decimal },
  KEFU_DELIVERY_ALLOW_CIDRS: { key: "deliveryAllowCidrs", parse: list },
  KEFU_DELIVERY_LOCK_MS: { key: "deliveryLockMs", parse: integer },
  KEFU_DELIVERY_SECRET_OVERLAP_HOURS: { key: "deliverySecretOverlapHours", parse: decimal },
  KEFU_DELIVERY_BREAKER_RESET_MS: { key: "deliveryBreakerResetMs", parse: integer },
  KEFU_DELIVERY_BREAKER_ERROR_PERCENT: { key: "deliveryBreakerErrorPercent", parse: integer },
  KEFU_DELIVERY_BREAKER_VOLUME_THRESHOLD: { key: "deliveryBreakerVolumeThreshold", parse: integer },
  KEFU_DELIVERY_MAX_ORIGINS: { key: "deliveryMaxOrigins", parse: integer },
  KEFU_SESSIONS_RETAIN_SECONDS: { key: "sessionsRetainSeconds", parse: integer },
  KEFU_SESSIONS_HEARTBEAT_MS: { key: "sessionsHeartbeatMs", parse: integer },
  KEFU_SESSIONS_PACK_IDLE_SECONDS: { key: "sessionsPackIdleSeconds", parse: integer },
  KEFU_BEHAVIOR_REDIS_STREAM: { key: "behaviorRedisStream", parse: text },
  KEFU_BEHAVIOR_CLAIM_IDLE_MS: { key: "behaviorClaimIdleMs", parse: integer },
  KEFU_BEHAVIOR_DEAD_LETTER_MAX: { key: "behaviorDeadLetterMax", parse: integer },
  KEFU_BEHAVIOR_NATS_URL: { key: "behaviorNatsUrl", parse: text },
  KEFU_BEHAVIOR_NATS_SUBJECT: { key: "behaviorNatsSubject", parse: text },
  KEFU_BEHAVIOR_KAFKA_BROKERS: { key: "behaviorKafkaBrokers", parse: list },
  KEFU_BEHAVIOR_KAFKA_TOPIC: { key: "behaviorKafkaTopic", parse: text },
  KEFU_DEMO_BEHAVIOR: { key: "demoBehavior", parse: boolean },
  KEFU_LIVE_TOKEN_SECRETS: { key: "liveTokenSecrets", parse: list },
  KEFU_LIVE_HISTORY_SIZE: { key: "liveHistorySize", parse: integer },
  KEFU_LIVE_HISTORY_SECONDS: { key: "liveHistorySeconds", parse: integer },
  KEFU_LIVE_MAX_BUFFER_BYTES: { key: "liveMaxBufferBytes", parse: integer },
  KEFU_LIVE_MAX_FRAME_BYTES: { key: "liveMaxFrameBytes", parse: integer },
  KEFU_LIVE_SLOW_CLOSE_MS: { key: "liveSlowCloseMs", parse: integer },
  KEFU_ADMIN_SESSION_TTL_SECONDS: { key: "adminSessionTtlSeconds", parse: integer },
  KEFU_LIVE_PING_INTERVAL_MS: { key: "livePingIntervalMs", parse: integer },
  KEFU_PLUGINS: { key: "plugins", parse: json },
  KEFU_PLUGIN_KINDS: { key: "pluginKinds", parse: keyValues },
  KEFU_PLUGIN_WATCH: { key: "pluginWatch", parse: boolean },
  KEFU_DEMO_BUSINESS_SYSTEM: { key: "demoBusinessSystem", parse: boolean },
  KEFU_DEMO_BUSINESS_SYSTEM_PORT: { key: "demoBusinessSystemPort", parse: integer },
  KEFU_CONTEXT_PART_TIMEOUT_MS: { key: "contextPartTimeoutMs", parse: integer },
  KEFU_CONTEXT_DEADLINE_MS: { key: "contextDeadlineMs", parse: integer },
  KEFU_CONTEXT_CALL_TIMEOUT_MS: { key: "contextCallTimeoutMs", parse: integer },
  KEFU_CONTEXT_ORDER_TTL_SECONDS: { key: "contextOrderTtlSeconds", parse: decimal },
  KEFU_CONTEXT_PAYMENTS_TTL_SECONDS: { key: "contextPaymentsTtlSeconds", parse: decimal },
  KEFU_CONTEXT_SHIPMENTS_TTL_SECONDS: { key: "contextShipmentsTtlSeconds", parse: decimal },
  KEFU_CONTEXT_CUSTOMER_TTL_SECONDS: { key: "contextCustomerTtlSeconds", parse: decimal },
  KEFU_CONTEXT_MAX_STALE_SECONDS: { key: "contextMaxStaleSeconds", parse: decimal },
  KEFU_CONTEXT_CACHE_MAX_ENTRIES: { key: "contextCacheMaxEntries", parse: integer },
  KEFU_CONTEXT_REDIS_CACHE: { key: "contextRedisCache", parse: boolean },
  KEFU_CONTEXT_BREAKER_VOLUME_THRESHOLD: { key: "contextBreakerVolumeThreshold", parse: integer },
  KEFU_CONTEXT_BREAKER_ERROR_PERCENT: { key: "contextBreakerErrorPercent", parse: integer },
  KEFU_CONTEXT_BREAKER_RESET_MS: { key: "contextBreakerResetMs", parse: integer },
  KEFU_CONTEXT_BREAKER_WINDOW_MS: { key: "contextBreakerWindowMs", parse: integer },
};
