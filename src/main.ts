import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import { resolve } from "node:path";
import type { Logger } from "pino";
import { createHub, type Hub } from "./app.ts";
import { closeGracefully } from "./http/graceful-close.ts";
import type { HubConfig } from "./config/config.ts";
import { ConfigError, loadConfig } from "./config/load-config.ts";
import { createLogger } from "./observability/logger.ts";
import { hubPaths } from "./paths.ts";
import { startDemoIfEnabled } from "./plugins/demo-launch.ts";
import { checkEvictionPolicy } from "./redis/check-eviction-policy.ts";
import { createRedisFactory } from "./redis/redis-factory.ts";
import { RedisUnavailableError, resolveRedis, type ResolvedRedis } from "./redis/resolve-redis.ts";
import { createSchemaRegistry } from "./schemas/schema-registry.ts";

export interface StartOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Where a private Redis keeps its data. */
  workDir?: string;
}

/** `kefu-hub start`: config, Redis, the hub, the HTTP server, and a graceful stop on SIGTERM/SIGINT. */
export async function start({ env, workDir = resolve(".kefu-hub") }: StartOptions): Promise<void> {
  const paths = hubPaths();
  const schemas = createSchemaRegistry(paths.schemas);
  let config: HubConfig;
  try {
    config = loadConfig({ env, schemas });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`kefu-hub: ${error.message}\nSee docs/configuration.md for every key and its allowed values.\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, isTty: process.stdout.isTTY === true });
  if (config.apiKeys.length === 0) config.apiKeys = [generateAdminKey(logger)];

  let redisServer: ResolvedRedis;
  try {
    redisServer = await resolveRedis({ configuredUrl: config.redisUrl, dataDir: resolve(workDir, "redis"), logger });
  } catch (error) {
    if (!(error instanceof RedisUnavailableError)) throw error;
    logger.fatal(error.message);
    process.stderr.write(`kefu-hub: ${error.message}\n`);
    process.exit(1);
  }
  const redis = createRedisFactory(redisServer.url, logger);
  const demo = await startDemoIfEnabled(config, logger, paths.root);
  const hub = await createHub({ config, logger, schemas, redis, paths });
  const probe = redis.create("startup-check");
  await checkEvictionPolicy(probe, logger);
  await probe.quit();

  const server = hub.app.listen(config.port, config.host);
  await new Promise<void>((done, fail) => server.once("listening", done).once("error", fail));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const shown = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  logger.info({ redis: redisServer.origin }, `kefu-hub listening on http://${shown}:${port} — Swagger UI at http://${shown}:${port}/docs`);

  stopOnSignals({ server, hub, logger, graceMs: config.shutdownGraceMs, stopRedis: async () => {
    await demo?.close();
    await redisServer.stop();
  } });
}

interface StopOptions {
  server: Server;
  hub: Hub;
  logger: Logger;
  graceMs: number;
  stopRedis: () => Promise<void>;
}

function stopOnSignals({ server, hub, logger, graceMs, stopRedis }: StopOptions): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting at once");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, graceMs }, "stopping: no new connections, finishing requests in flight");
    void stop({ server, hub, logger, graceMs, stopRedis }).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

async function stop({ server, hub, logger, graceMs, stopRedis }: StopOptions): Promise<void> {
  hub.startDraining();
  await closeGracefully({ server, graceMs, logger });
  await hub.close();
  await stopRedis();
  logger.info("stopped");
  logger.flush();
}

function generateAdminKey(logger: Logger): { key: string; scopes: ["admin"] } {
  const key = `kefu_${randomBytes(24).toString("base64url")}`;
  logger.warn(
    `No API keys configured (KEFU_API_KEYS), so this run made an admin key, shown once:\n\n    ${key}\n\n` +
      'Use it as "Authorization: Bearer <key>" or in Swagger UI\'s Authorize. To keep a key across ' +
      'restarts set KEFU_API_KEYS, e.g. KEFU_API_KEYS="<long-random-key>=admin,<another>=ingest+read".',
  );
  return { key, scopes: ["admin"] };
}
