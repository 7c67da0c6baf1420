import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { pino, type Logger } from "pino";
import { createHub, type Hub } from "../../src/app.ts";
import type { FaultHook } from "../../src/fault-points.ts";
import { createHubServer } from "../../src/http/create-server.ts";
import type { HubConfig } from "../../src/config/config.ts";
import { loadConfig } from "../../src/config/load-config.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { hubPaths } from "../../src/paths.ts";
import { createRedisFactory } from "../../src/redis/redis-factory.ts";
import { createSchemaRegistry, type SchemaRegistry } from "../../src/schemas/schema-registry.ts";
import { deleteKeysAt } from "./delete-keys.ts";

export const TEST_REDIS_URL = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";

/** One key per scope, so that tests can check 403s. */
export const TEST_KEYS = {
  admin: "test-admin-key-0001",
  ingest: "test-ingest-key-0002",
  read: "test-read-key-00003",
} as const;

export interface TestHub {
  hub: Hub;
  server: Server;
  /** `http://127.0.0.1:<port>` */
  url: string;
  config: HubConfig;
  schemas: SchemaRegistry;
  /** Every key this hub wrote starts with `${prefix}`. */
  prefix: string;
  /** `fetch` against the hub with a key of the given scope (admin by default). */
  request(path: string, init?: RequestInit & { scope?: keyof typeof TEST_KEYS | "none"; json?: unknown }): Promise<Response>;
  /** Stops the hub and deletes every Redis key under its prefix. */
  close(): Promise<void>;
}

export interface TestHubOptions {
  /** Share another hub's key prefix (several hubs on one Redis). @defaultValue a new `test-<uuid>` */
  prefix?: string;
  /**
   * Leave the prefix's keys in Redis on close, e.g. when another hub still uses them; whoever
   * closes last (or the test) deletes them with {@link deleteKeys}. @defaultValue false
   */
  keepKeys?: boolean;
  /** The hub's logger, e.g. {@link captureLogs}'s. @defaultValue JSON to stdout at KEFU_TEST_LOG_LEVEL, else silent */
  logger?: Logger;
  /** Called at each crash point of the write paths (src/fault-points.ts). */
  faults?: FaultHook;
}

/** A logger that keeps every line it writes, parsed, so that tests can check what the hub logged. */
export function captureLogs(level: HubConfig["logLevel"] = "debug"): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}

/**
 * The real hub, in process, on port 0, against the real Redis, under a key prefix of its own.
 * `KEFU_TEST_LOG_LEVEL=debug` shows its logs.
 */
export async function startTestHub(overrides: Partial<HubConfig> = {}, env: Record<string, string> = {}, options: TestHubOptions = {}): Promise<TestHub> {
  const paths = hubPaths();
  const schemas = createSchemaRegistry(paths.schemas);
  const prefix = options.prefix ?? `test-${randomUUID().slice(0, 8)}`;
  const config = loadConfig({
    env: { ...env },
    schemas,
    overrides: {
      port: 0,
      host: "127.0.0.1",
      redisUrl: TEST_REDIS_URL,
      redisPrefix: prefix,
      logLevel: (process.env["KEFU_TEST_LOG_LEVEL"] as HubConfig["logLevel"] | undefined) ?? "silent",
      logFormat: "json",
      apiKeys: [
        { key: TEST_KEYS.admin, scopes: ["admin"] },
        { key: TEST_KEYS.ingest, scopes: ["ingest"] },
        { key: TEST_KEYS.read, scopes: ["read"] },
      ],
      ...overrides,
    },
  });
  const logger = options.logger ?? createLogger({ level: config.logLevel, format: "json", isTty: false });
  const redis = createRedisFactory(config.redisUrl ?? TEST_REDIS_URL, logger);
  const hub = await createHub({ config, logger, schemas, redis, paths, ...(options.faults ? { faults: options.faults } : {}) });
  const server = createHubServer(hub.listener, { logger }).listen(0, "127.0.0.1");
  server.on("upgrade", (req, socket, head) => hub.upgrade(req, socket, head));
  await new Promise<void>((resolve, reject) => server.once("listening", resolve).once("error", reject));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    hub,
    server,
    url,
    config,
    schemas,
    prefix,
    request(path, init = {}) {
      const { scope = "admin", json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (scope !== "none") headers.set("authorization", `Bearer ${TEST_KEYS[scope]}`);
      if (json !== undefined) headers.set("content-type", "application/json");
      return fetch(url + path, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
    },
    async close() {
      // As a SIGTERM does: upgraded (live) sockets are not the HTTP server's to close, and would
      // hold server.close() forever when a failing test left one open.
      hub.startDraining();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await hub.close();
      if (!options.keepKeys) await deleteKeys(prefix);
    },
  };
}

/** Deletes every key that starts with `prefix` (also BullMQ's `{prefix...}` hash-tagged ones). */
export function deleteKeys(prefix: string): Promise<void> {
  return deleteKeysAt(TEST_REDIS_URL, prefix);
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 5000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
