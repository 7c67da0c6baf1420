import { Redis } from "ioredis";
import { request, type Agent } from "undici";
import type { FakeRoute, FromRunner, LoadSpec, RunnerInit } from "./protocol.ts";

/** Largest response body a plugin may receive. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;
const MAX_CACHE_VALUE_BYTES = 256 * 1024;
const FETCH_METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]);

/** One host operation, asked for by the guest with a JSON payload; answers `o<json>` or `e<error message>`. */
export type HostDispatch = (op: string, payloadJson: string) => Promise<string>;

export interface PluginCache {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  close(): Promise<void>;
}

/** Shared by every plugin of the runner: one connection pool, one cache connection. */
export interface RunnerServices {
  agent: Agent;
  cache: PluginCache;
  send(message: FromRunner): void;
  logLevel: number;
}

export const LOG_LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

export function createCache(init: RunnerInit["cache"]): PluginCache {
  if (init.kind === "memory") {
    const entries = new Map<string, { value: string; expires: number }>();
    return {
      async get(key) {
        const entry = entries.get(key);
        return entry && entry.expires > Date.now() ? entry.value : null;
      },
      async set(key, value, ttlSeconds) {
        entries.set(key, { value, expires: Date.now() + ttlSeconds * 1000 });
      },
      async close() {},
    };
  }
  let redis: Redis | undefined;
  const connection = (): Redis => (redis ??= new Redis(init.url, { connectionName: "kefu-hub:plugin-runner", maxRetriesPerRequest: 1 }));
  return {
    get: (key) => connection().get(`${init.prefix}:plugin-cache:${key}`),
    async set(key, value, ttlSeconds) {
      await connection().set(`${init.prefix}:plugin-cache:${key}`, value, "EX", ttlSeconds);
    },
    async close() {
      await redis?.quit().catch(() => redis?.disconnect());
    },
  };
}

/**
 * The host side of `kefu.*` for one plugin version. Runs in the runner, next to the isolates, so
 * that a fetch costs no extra hop through the API process (bench/plugins.ts measures it).
 */
export function createHostDispatch(spec: LoadSpec, services: RunnerServices, fakes: () => FakeRoute[] | null): HostDispatch {
  const allowed = new Set(spec.allow);
  const run = async (op: string, payloadJson: string): Promise<string> => {
    const payload = JSON.parse(payloadJson) as Record<string, unknown>;
    switch (op) {
      case "fetch":
        return JSON.stringify(await hostFetch(payload, allowed, spec, services.agent, fakes()));
      case "cache.get": {
        const value = await services.cache.get(`${spec.plugin}:${cacheKey(payload["key"])}`);
        return value ?? "null";
      }
      case "cache.set": {
        const text = JSON.stringify(payload["value"] ?? null);
        if (Buffer.byteLength(text) > MAX_CACHE_VALUE_BYTES) throw new Error("kefu.cache.set: the value is larger than 256 KB");
        const ttl = payload["ttlSeconds"] === undefined ? 300 : Number(payload["ttlSeconds"]);
        if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86400) throw new Error("kefu.cache.set: ttlSeconds must be a whole number from 1 to 86400");
        await services.cache.set(`${spec.plugin}:${cacheKey(payload["key"])}`, text, ttl);
        return "null";
      }
      case "log": {
        const level = String(payload["level"]);
        if ((LOG_LEVELS[level] ?? 0) < services.logLevel) return "null";
        const fields = typeof payload["fields"] === "object" && payload["fields"] !== null ? (payload["fields"] as Record<string, unknown>) : undefined;
        services.send({ t: "log", plugin: spec.plugin, level: level as "info", msg: String(payload["msg"]).slice(0, 4000), ...(fields ? { fields } : {}) });
        return "null";
      }
      default:
        throw new Error(`unknown host operation ${op}`);
    }
  };
  // Failures go back as data (`e<message>`), never as a rejected promise: isolated-vm may attach its
  // handler too late for Node, which would then take the rejection as unhandled and end the runner.
  return (op, payloadJson) => run(op, payloadJson).then(
    (answer) => `o${answer}`,
    (error: unknown) => `e${(error as Error).message ?? String(error)}`,
  );
}

function cacheKey(key: unknown): string {
  const text = String(key);
  if (text.length === 0 || text.length > 512) throw new Error("kefu.cache: keys are 1 to 512 characters");
  return text;
}

interface FetchAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  redirectedTo?: string;
}

async function hostFetch(payload: Record<string, unknown>, allowed: ReadonlySet<string>, spec: LoadSpec, agent: Agent, fakes: FakeRoute[] | null): Promise<FetchAnswer> {
  let url: URL;
  try {
    url = new URL(String(payload["url"]));
  } catch {
    throw new Error(`kefu.http.fetch: ${String(payload["url"])} is not an absolute URL`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || !allowed.has(url.origin)) {
    throw new Error(`kefu.http.fetch: ${url.origin} is not in this plugin's capabilities.http.allow (${[...allowed].join(", ") || "empty"})`);
  }
  const method = (typeof payload["method"] === "string" ? payload["method"] : "GET").toUpperCase();
  if (!FETCH_METHODS.has(method)) throw new Error(`kefu.http.fetch: method ${method} is not supported`);
  if (fakes) return fakeAnswer(fakes, method, url.href);
  const timeoutMs = Math.min(spec.timeoutMs, Number(payload["timeoutMs"] ?? spec.timeoutMs) || spec.timeoutMs);
  const headers = (payload["headers"] ?? {}) as Record<string, string>;
  const body = typeof payload["body"] === "string" ? payload["body"] : undefined;
  // undici's own timers rather than an AbortSignal per request: measurably cheaper under load.
  const response = await request(url, {
    method: method as "GET",
    headers,
    ...(body !== undefined ? { body } : {}),
    dispatcher: agent,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  }).catch((error: unknown) => {
    const code = (error as { code?: string }).code;
    const reason = code === "UND_ERR_HEADERS_TIMEOUT" ? `no answer within ${timeoutMs} ms` : (code ?? (error as Error).message);
    throw new Error(`kefu.http.fetch ${method} ${url.href} failed: ${reason}`);
  });
  const text = await readCapped(response.body, Number(response.headers["content-length"] ?? 0), `kefu.http.fetch ${method} ${url.href}`);
  const answerHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) answerHeaders[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  const answer: FetchAnswer = { status: response.statusCode, headers: answerHeaders, body: text };
  if (response.statusCode >= 300 && response.statusCode < 400 && answerHeaders["location"]) answer.redirectedTo = answerHeaders["location"];
  return answer;
}

/** The body as text, refusing (and destroying the stream) past {@link MAX_RESPONSE_BYTES}. */
function readCapped(stream: NodeJS.ReadableStream & { destroy(): void }, declaredBytes: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    if (declaredBytes > MAX_RESPONSE_BYTES) {
      stream.destroy();
      reject(new Error(`${what}: the response is larger than 1 MB`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) {
        stream.destroy();
        reject(new Error(`${what}: the response is larger than 1 MB`));
        return;
      }
      chunks.push(chunk);
    });
    stream.once("end", () => resolve(chunks.length === 1 ? (chunks[0] ?? Buffer.alloc(0)).toString("utf8") : Buffer.concat(chunks).toString("utf8")));
    stream.once("error", (error: Error) => reject(size > MAX_RESPONSE_BYTES ? new Error(`${what}: the response is larger than 1 MB`) : error));
  });
}

function fakeAnswer(fakes: FakeRoute[], method: string, href: string): FetchAnswer {
  const route = fakes.find((candidate) => candidate.method.toUpperCase() === method && new URL(candidate.url).href === href);
  if (!route) throw new Error(`kefu.http.fetch: the test case records no upstream answer for ${method} ${href}`);
  const body = typeof route.body === "string" ? route.body : route.body === undefined ? "" : JSON.stringify(route.body);
  return { status: route.status, headers: { "content-type": "application/json", ...route.headers }, body };
}
