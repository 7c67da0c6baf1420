import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Redis } from "ioredis";
import { createHub } from "../../src/app.ts";
import { loadConfig } from "../../src/config/load-config.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { hubPaths } from "../../src/paths.ts";
import { createRedisFactory, type RedisFactory } from "../../src/redis/redis-factory.ts";
import { createSchemaRegistry } from "../../src/schemas/schema-registry.ts";
import { deleteKeys, eventually, TEST_KEYS, TEST_REDIS_URL } from "../helpers/test-hub.ts";

/**
 * Pids of this process's live children (the plugin runner is one), less esbuild's service: that
 * is esbuild's own process-wide helper for bundling, unref'd and ended with the process, shared by
 * whatever in the process bundles, so it is not the hub's to stop.
 */
function children(): number[] {
  return readdirSync("/proc").flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const esbuild = readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("esbuild");
      return Number(fields[1]) === process.pid && fields[0] !== "Z" && !esbuild ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}

test("a start that fails halfway (a bad ruleset file, after the plugin runner and Redis connections) leaves no process or connection behind", async () => {
  const dir = await mkdtemp(join(tmpdir(), "kefu-failed-start-"));
  const rules = join(dir, "rules.json");
  await writeFile(rules, JSON.stringify({ name: "broken", rules: [{ name: "r", conditions: { all: [{ fact: "no.such.fact", operator: "equal", value: 1 }] }, event: { businessLine: "x" } }] }));
  const schemas = createSchemaRegistry(hubPaths().schemas);
  const prefix = `test-failed-start-${randomUUID().slice(0, 8)}`;
  const config = loadConfig({
    env: {},
    schemas,
    overrides: { redisUrl: TEST_REDIS_URL, redisPrefix: prefix, routingRules: rules, logLevel: "silent", pluginWatch: false, apiKeys: [{ key: TEST_KEYS.admin, scopes: ["admin"] }] },
  });
  const logger = createLogger({ level: "silent", format: "json", isTty: false });
  // Every connection the hub opens, to check each is closed afterwards.
  const factory = createRedisFactory(TEST_REDIS_URL, logger);
  const connections: { purpose: string; connection: Redis }[] = [];
  const redis: RedisFactory = {
    url: factory.url,
    create(purpose, options) {
      const connection = factory.create(purpose, options);
      connections.push({ purpose, connection });
      return connection;
    },
    closeAll: () => factory.closeAll(),
  };
  const before = new Set(children());
  try {
    await assert.rejects(createHub({ config, logger, schemas, redis, paths: hubPaths() }), /KEFU_ROUTING_RULES/);
    assert.ok(connections.length > 0, "the start got as far as opening connections");
    assert.ok(connections.some((c) => c.purpose === "routing"), "…and the routing module");
    await eventually(() => connections.every(({ connection }) => connection.status === "end"), 5000, "every Redis connection closed");
    const left = (): string[] => children().filter((pid) => !before.has(pid)).map((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " "));
    await eventually(() => left().length === 0, 5000, "the plugin runner process gone").catch((error: Error) => {
      throw new Error(`${error.message}: ${left().join(" | ")}`);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
    await deleteKeys(prefix);
  }
});
