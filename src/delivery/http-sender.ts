import { isIP } from "node:net";
import { LRUCache } from "lru-cache";
import { Pool, type Dispatcher } from "undici";
import { createSharedWait } from "../resilience/shared-wait.ts";
import { parseRetryAfter } from "./retry-policy.ts";
import { allowCidrsHint, SsrfError, type SsrfGuard } from "./ssrf-guard.ts";

export interface WebhookRequest {
  url: URL;
  headers: Record<string, string>;
  body: string;
}

/** What one POST came to. */
export interface WebhookResponse {
  ok: boolean;
  statusCode?: number;
  durationMs: number;
  error?: string;
  /** First 4 KB of the body. */
  body?: string;
  retryAfterMs?: number;
  /** The failure is the connection's or the timeout's, not an answer (counts against the breaker). */
  transportFailure: boolean;
  /** Refused by the SSRF guard: retrying will not help until the URL or the allow-list changes. */
  refused?: boolean;
}

export interface HttpSender {
  send(request: WebhookRequest): Promise<WebhookResponse>;
  /** Receiver origins with a pool, and their open connections. */
  pools(): { origins: number; connections: number };
  close(): Promise<void>;
}

export interface HttpSenderOptions {
  guard: SsrfGuard;
  timeoutMs: number;
  /** Connections per origin. @defaultValue 64 */
  connectionsPerOrigin?: number;
  /**
   * Origins whose pool is kept (`KEFU_DELIVERY_MAX_ORIGINS`). Past it the least recently used pool
   * is closed gracefully: its requests in flight finish, then its connections go; the next request
   * to that origin opens a new pool. @defaultValue 1000
   */
  maxOrigins?: number;
  /**
   * A pool not used for this long is closed the same way, when the next new origin comes (its
   * connections are gone after the 30 s keep-alive anyway; this drops the pool). 0 keeps pools
   * until `maxOrigins` pushes them out. @defaultValue 600000
   */
  idleMs?: number;
  /** Milliseconds, for idle ages; never 0 (lru-cache reads a start time of 0 as "no age"). @defaultValue Date.now */
  now?: () => number;
}

const BODY_KEPT = 4096;
/** Past this much of a response body the connection is dropped rather than drained. */
const BODY_DRAINED = 64 * 1024;

/**
 * POSTs through one keep-alive undici Pool per origin (several times the throughput of fetch for
 * the same requests), connecting only to addresses the SSRF guard accepts: a literal IP is checked
 * here, a name is checked by the guard's `lookup` at connect time, so a DNS answer cannot swap in
 * a private address after the check. Redirects are never followed (undici's default).
 */
export function createHttpSender(options: HttpSenderOptions): HttpSender {
  const { guard, timeoutMs, connectionsPerOrigin = 64, maxOrigins = 1000, idleMs = 600_000, now = Date.now } = options;
  let closed = false;
  const destroying: Promise<void>[] = [];
  /** Pools pushed out while requests were in flight on them: closing, unless the sender closes first. */
  const retiring = new Set<Pool>();
  const pools = new LRUCache<string, Pool>({
    max: maxOrigins,
    ...(idleMs > 0 ? { ttl: idleMs, updateAgeOnGet: true, ttlResolution: 0, perf: { now } } : {}),
    dispose: (pool) => {
      if (closed) {
        destroying.push(pool.destroy().catch(() => undefined));
        return;
      }
      // close(), not destroy(): a delivery in flight to an evicted origin must still get its answer.
      retiring.add(pool);
      void pool
        .close()
        .catch(() => undefined)
        .finally(() => retiring.delete(pool));
    },
  });
  const poolOf = (url: URL): Pool => {
    const found = pools.get(url.origin);
    if (found) return found;
    // Idle pools leave when a new origin arrives rather than on a timer of their own.
    if (idleMs > 0) pools.purgeStale();
    const pool = new Pool(url.origin, {
      connections: connectionsPerOrigin,
      keepAliveTimeout: 30_000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connect: { lookup: guard.lookup, timeout: timeoutMs },
    });
    pools.set(url.origin, pool);
    return pool;
  };

  // The whole exchange's bound, on one timer for every request (an AbortSignal.timeout each was
  // ~2 µs per delivery: a timer and a weakly held signal).
  const exchangeWait = createSharedWait(timeoutMs);
  const exchange = async (url: URL, headers: Record<string, string>, body: string): Promise<{ response: Dispatcher.ResponseData; text: string }> => {
    const abort = new AbortController();
    const exchanging = (async () => {
      const response = await poolOf(url).request({ path: url.pathname + url.search, method: "POST", headers, body, signal: abort.signal });
      return { response, text: await readHead(response) };
    })();
    return exchangeWait.within(exchanging, () => {
      // What the exchange then rejects with is this timeout's doing, already answered.
      exchanging.catch(() => undefined);
      abort.abort();
      throw Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: "TimeoutError" });
    });
  };

  const send = async ({ url, headers, body }: WebhookRequest): Promise<WebhookResponse> => {
    const started = performance.now();
    const elapsed = (): number => Math.round((performance.now() - started) * 100) / 100;
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const refusedLiteral = isIP(host) ? guard.refusal(host) : undefined;
    if (refusedLiteral) return { ok: false, durationMs: elapsed(), error: `refused: ${refusedLiteral}; ${allowCidrsHint(host)}`, transportFailure: false, refused: true };
    // A pool made now would never be closed.
    if (closed) return { ok: false, durationMs: elapsed(), error: "the sender is closed", transportFailure: true };
    try {
      const { response, text } = await exchange(url, headers, body);
      const statusCode = response.statusCode;
      const result: WebhookResponse = { ok: statusCode >= 200 && statusCode < 300, statusCode, durationMs: elapsed(), body: text, transportFailure: false };
      if (!result.ok) {
        result.error = statusCode >= 300 && statusCode < 400 ? `redirect to ${String(response.headers["location"] ?? "?")} not followed` : `HTTP ${statusCode}`;
        if (statusCode === 429 || statusCode === 503) {
          const retryAfterMs = parseRetryAfter(response.headers["retry-after"]);
          if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
        }
      }
      return result;
    } catch (error) {
      const err = error as Error & { code?: string; cause?: { code?: string } };
      if (err instanceof SsrfError || err.code === "ESSRF") return { ok: false, durationMs: elapsed(), error: `refused: ${err.message}`, transportFailure: false, refused: true };
      const timedOut = err.name === "TimeoutError" || err.code === "UND_ERR_HEADERS_TIMEOUT" || err.code === "UND_ERR_BODY_TIMEOUT" || err.code === "UND_ERR_CONNECT_TIMEOUT";
      const message = timedOut ? `no answer within ${timeoutMs} ms` : `${err.code ?? err.name}: ${err.message}`;
      return { ok: false, durationMs: elapsed(), error: message, transportFailure: true };
    }
  };

  return {
    pools() {
      let connections = 0;
      for (const pool of pools.values()) connections += pool.stats.connected;
      return { origins: pools.size, connections };
    },
    send,
    /** Destroys every pool, retiring ones too: the worker's grace period for deliveries is over by now. Idempotent. */
    async close() {
      if (!closed) {
        closed = true;
        pools.clear(); // disposes each, idle ones too, into `destroying`
        for (const pool of retiring) destroying.push(pool.destroy().catch(() => undefined));
        retiring.clear();
      }
      await Promise.all(destroying);
    },
  };
}

/** The first BODY_KEPT bytes of the answer, draining at most BODY_DRAINED of it. */
async function readHead({ statusCode, headers, body }: Dispatcher.ResponseData): Promise<string> {
  // Most answers are empty or short, and say so: read whole, without an async iterator.
  const length = Number(headers["content-length"]);
  if (statusCode === 204 || statusCode === 304 || (Number.isFinite(length) && length <= BODY_KEPT)) return body.text();
  const chunks: Buffer[] = [];
  let kept = 0;
  let seen = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    seen += chunk.length;
    if (kept < BODY_KEPT) {
      chunks.push(chunk.subarray(0, BODY_KEPT - kept));
      kept += Math.min(chunk.length, BODY_KEPT - kept);
    }
    if (seen > BODY_DRAINED) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString("utf8");
}
