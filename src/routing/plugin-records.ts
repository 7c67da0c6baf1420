import { LRUCache } from "lru-cache";
import { HubError } from "../http/errors.ts";
import type { PluginCaller } from "../plugins/plugin-caller.ts";
import type { RecordFetcher } from "./decision-facts.ts";
import { RECORD_KEYS, type PluginRecord } from "./facts.ts";

export interface PluginRecordFetcherOptions {
  /** Absent while the hub runs without a plugin host: every plugin fact is then unavailable. */
  caller?: PluginCaller;
  /** How long a fetched record (or "no such record") is reused. @defaultValue 60 */
  cacheTtlSeconds?: number;
  /** @defaultValue 10000 */
  cacheMaxEntries?: number;
}

interface Cached {
  value: Record<string, unknown> | null;
}

/**
 * Plugin records for routing facts: cached briefly, one call in flight per record, and bounded by
 * the caller's deadline even when the plugin never answers (the timer, not the plugin, settles).
 */
export function createPluginRecordFetcher({ caller, cacheTtlSeconds = 60, cacheMaxEntries = 10_000 }: PluginRecordFetcherOptions): RecordFetcher {
  const cache = new LRUCache<string, Cached>({ max: cacheMaxEntries, ttl: cacheTtlSeconds * 1000 });
  const inFlight = new Map<string, Promise<Record<string, unknown> | null>>();

  const callPlugin = (record: PluginRecord, id: string, timeoutMs: number): Promise<Record<string, unknown> | null> => {
    const key = `${record}:${id}`;
    let pending = inFlight.get(key);
    if (!pending) {
      const { kind, method, input } = RECORD_KEYS[record];
      // Without a host every plugin fact is unavailable; with one, the host says why a kind has no
      // plugin (none loaded, or several and none chosen: plugin_ambiguous).
      if (!caller) return Promise.reject(new HubError("plugin_unavailable", `no plugin host: no ${kind} plugin serves routing facts`));
      pending = caller.call<Record<string, unknown>>(kind, method, { [input]: id }, { timeoutMs });
      inFlight.set(key, pending);
      pending.then(
        (value) => {
          cache.set(key, { value });
          inFlight.delete(key);
        },
        () => inFlight.delete(key),
      );
    }
    return pending;
  };

  return {
    fetch(record, id, timeoutMs) {
      const cached = cache.get(`${record}:${id}`);
      if (cached) return Promise.resolve(cached.value);
      const pending = callPlugin(record, id, timeoutMs);
      // A plugin that never settles must not pin its key: the next decision calls afresh.
      const forget = (): void => {
        if (inFlight.get(`${record}:${id}`) === pending) inFlight.delete(`${record}:${id}`);
      };
      return withDeadline(pending, timeoutMs, record, forget);
    },
  };
}

function withDeadline<T>(promise: Promise<T>, timeoutMs: number, record: PluginRecord, onTimeout: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      reject(new HubError("plugin_timeout", `the ${record} record did not arrive within ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
