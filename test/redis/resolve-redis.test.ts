import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test } from "node:test";
import { Redis } from "ioredis";
import { pino } from "pino";
import { checkAppendOnly } from "../../src/redis/check-append-only.ts";
import { checkEvictionPolicy } from "../../src/redis/check-eviction-policy.ts";
import { answersRedis, RedisUnavailableError, resolveRedis } from "../../src/redis/resolve-redis.ts";
import { freePort, startHubProcess } from "../helpers/hub-process.ts";
import { eventually } from "../helpers/test-hub.ts";

function capturingLogger(): { logger: pino.Logger; lines: () => { level: number; msg: string }[] } {
  const lines: string[] = [];
  const logger = pino({ level: "info" }, new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }));
  return { logger, lines: () => lines.map((l) => JSON.parse(l) as { level: number; msg: string }) };
}

test("REDIS_URL wins; otherwise a Redis answering locally is used", async () => {
  const { logger } = capturingLogger();
  const configured = await resolveRedis({ configuredUrl: "redis://cache.internal:6380", dataDir: "unused", logger });
  assert.deepEqual([configured.origin, configured.url], ["configured", "redis://cache.internal:6380"]);
  const local = await resolveRedis({ configuredUrl: undefined, dataDir: "unused", logger });
  assert.deepEqual([local.origin, local.url], ["local", "redis://127.0.0.1:6379"]);
});

test("with nothing answering, a private redis-server starts with AOF in the data folder and stops with the hub", async () => {
  const { logger } = capturingLogger();
  const dataDir = join(mkdtempSync(join(tmpdir(), "kefu-redis-")), "redis");
  const silent = { host: "127.0.0.1", port: await freePort() };
  const redis = await resolveRedis({ configuredUrl: undefined, dataDir, logger, local: silent });
  assert.equal(redis.origin, "private");
  const client = new Redis(redis.url);
  try {
    assert.equal(await client.config("GET", "appendonly").then((r) => r[1]), "yes");
    assert.equal(await client.config("GET", "maxmemory-policy").then((r) => r[1]), "noeviction");
    assert.equal(await client.config("GET", "dir").then((r) => r[1]), dataDir);
  } finally {
    client.disconnect();
  }
  await redis.stop();
  const port = Number(new URL(redis.url).port);
  assert.equal(await answersRedis("127.0.0.1", port), false);
  assert.ok(existsSync(dataDir));
});

test("with no Redis and no redis-server, the error says how to get one", async () => {
  const { logger } = capturingLogger();
  const silent = { host: "127.0.0.1", port: await freePort() };
  await assert.rejects(resolveRedis({ configuredUrl: undefined, dataDir: "unused", logger, path: "/nonexistent", local: silent }), (error: Error) => {
    assert.ok(error instanceof RedisUnavailableError);
    assert.match(error.message, /apt-get install redis-server/);
    assert.match(error.message, /docker compose -f docker\/docker-compose.yml/);
    assert.match(error.message, /REDIS_URL=/);
    return true;
  });
});

test("a maxmemory-policy other than noeviction is warned about loudly", async () => {
  const port = await freePort();
  const server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--maxmemory-policy", "allkeys-lru"], { stdio: "ignore" });
  try {
    await eventually(() => answersRedis("127.0.0.1", port), 5000, "redis-server");
    const client = new Redis(`redis://127.0.0.1:${port}`);
    const { logger, lines } = capturingLogger();
    assert.equal(await checkEvictionPolicy(client, logger), "allkeys-lru");
    client.disconnect();
    const warning = lines().find((l) => l.level === 40);
    assert.match(warning?.msg ?? "", /maxmemory-policy is "allkeys-lru", not "noeviction"/);
  } finally {
    server.kill("SIGKILL");
  }
});

test("noeviction passes quietly", async () => {
  const client = new Redis("redis://127.0.0.1:6379");
  const { logger, lines } = capturingLogger();
  assert.equal(await checkEvictionPolicy(client, logger), "noeviction");
  client.disconnect();
  assert.deepEqual(lines(), []);
});

async function withRedisServer(args: string[], use: (client: Redis) => Promise<void>): Promise<void> {
  const port = await freePort();
  const server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", mkdtempSync(join(tmpdir(), "kefu-aof-")), ...args], { stdio: "ignore" });
  try {
    await eventually(() => answersRedis("127.0.0.1", port), 5000, "redis-server");
    const client = new Redis(`redis://127.0.0.1:${port}`);
    try {
      await use(client);
    } finally {
      client.disconnect();
    }
  } finally {
    server.kill("SIGKILL");
  }
}

test("a Redis without AOF is warned about, naming appendonly", async () => {
  await withRedisServer(["--appendonly", "no"], async (client) => {
    const { logger, lines } = capturingLogger();
    assert.equal(await checkAppendOnly(client, logger), "no");
    const warning = lines().find((l) => l.level === 40);
    assert.match(warning?.msg ?? "", /without AOF \(appendonly no\)/);
    assert.match(warning?.msg ?? "", /Set `appendonly yes`/);
  });
});

test("a Redis with AOF passes quietly", async () => {
  await withRedisServer(["--appendonly", "yes"], async (client) => {
    const { logger, lines } = capturingLogger();
    assert.equal(await checkAppendOnly(client, logger), "yes");
    assert.deepEqual(lines(), []);
  });
});

test("kefu-hub start warns when its Redis runs without AOF", { timeout: 30_000 }, async () => {
  await withRedisServer(["--appendonly", "no"], async (client) => {
    const { port } = client.options;
    const hub = await startHubProcess({ REDIS_URL: `redis://127.0.0.1:${port}`, KEFU_REDIS_PREFIX: `test-aof-${port}` });
    try {
      await hub.outputMatching(/Redis runs without AOF \(appendonly no\)/);
    } finally {
      hub.child.kill("SIGTERM");
      await hub.exited;
    }
  });
});
