import type { HubConfig } from "../config/config.ts";
import type { OrderContextSettings } from "./order-context-module.ts";

/** The order context's settings from the hub config (see docs/configuration.md). */
export function contextSettingsFrom(config: HubConfig): OrderContextSettings {
  return {
    partTimeoutMs: config.contextPartTimeoutMs,
    deadlineMs: config.contextDeadlineMs,
    callTimeoutMs: config.contextCallTimeoutMs,
    ttlSeconds: {
      order: config.contextOrderTtlSeconds,
      payments: config.contextPaymentsTtlSeconds,
      shipments: config.contextShipmentsTtlSeconds,
      customer: config.contextCustomerTtlSeconds,
    },
    maxStaleSeconds: config.contextMaxStaleSeconds,
    cacheMaxEntries: config.contextCacheMaxEntries,
    redisCache: config.contextRedisCache,
    breaker: {
      volumeThreshold: config.contextBreakerVolumeThreshold,
      errorThresholdPercentage: config.contextBreakerErrorPercent,
      resetTimeoutMs: config.contextBreakerResetMs,
      rollingWindowMs: config.contextBreakerWindowMs,
    },
  };
}
