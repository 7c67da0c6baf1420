import { randomBytes } from "node:crypto";
import { createServer, type RequestListener, type Server } from "node:http";
import { resolve } from "node:path";
import type { Logger } from "pino";
import { createHub, type Hub } from "./app.ts";
import type { HubConfig } from "./config/config.ts";
import { ConfigError, loadConfig } from "./config/load-config.ts";
import { bootingHandler } from "./http/booting-handler.ts";
import { closeGracefully } from "./http/graceful-close.ts";
import { createLogger } from "./observability/logger.ts";
import { hubPaths } from "./paths.ts";
import { startDemoIfEnabled } from "./plugins/demo-launch.ts";
import { checkEvictionPolicy } from "./redis/check-eviction-policy.ts";
import { createRedisFactory } from "./redis/redis-factory.ts";
import { RedisUnavailableError, resolveRedis, type ResolvedRedis } from "./redis/resolve-redis.ts";
import { waitForRedis } from "./redis/wait-for-redis.ts";
import { createSchemaRegistry } from "./schemas/schema-registry.ts";

export interface StartOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Where a private Redis keeps its data. */
  workDir?: string;
}

/** What a stop has to undo; filled in as start-up gets further. */
interface Running {
  server: Server;
  hub?: Hub;
  cleanups: (() => Promise<void>)[];
}

/**
 * `kefu-hub start`: config, Redis, the HTTP server, the hub, and a graceful stop on SIGTERM/SIGINT.
 * The server listens before the hub is built, answering /healthz and a 503 with the reason
 * elsewhere, so that a Redis that starts late shows up in /readyz instead of as a refused port.
 */
export async function start({ env, workDir = resolve(".kefu-hub") }: StartOptions): Promise<void> {
  const paths = hubPaths();
  const schemas = createSchemaRegistry(paths.schemas);
  const config = loadConfigOrExit(env, schemas);
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, isTty: process.stdout.isTTY === true });
  if (config.apiKeys.length === 0) config.apiKeys = [generateAdminKey(logger)];
  const redisServer = await resolveRedisOrExit(config, logger, workDir);

  let status = `waiting for Redis at ${redactUrl(redisServer.url)}`;
  let handler: RequestListener = bootingHandler(() => status);
  const running: Running = { server: createServer((req, res) => handler(req, res)), cleanups: [() => redisServer.stop()] };
  stopOnSignals(running, logger, config.shutdownGraceMs);
  await listen(running.server, config, logger);

  try {
    const demo = await startDemoIfEnabled(config, logger, paths.root);
    if (demo) running.cleanups.unshift(() => demo.close());
    const redis = createRedisFactory(redisServer.url, logger);
    const probe = redis.create("startup-check", { maxRetriesPerRequest: null });
    await waitForRedis(probe, logger);
    await checkEvictionPolicy(probe, logger);
    await probe.quit();

    status = "loading plugins, rulesets and queues";
    running.hub = await createHub({ config, logger, schemas, redis, paths });
  } catch (error) {
    // createHub closed what it opened; the port, the demo system and a private redis-server are ours.
    logger.fatal({ err: error }, "kefu-hub could not start; stopping what it had started");
    await stop(running, logger, 0).catch((stopError: unknown) => logger.error({ err: stopError }, "could not stop everything after the failed start"));
    throw error;
  }
  handler = running.hub.app;
  logger.info({ redis: redisServer.origin }, "kefu-hub is ready");
}

function loadConfigOrExit(env: StartOptions["env"], schemas: ReturnType<typeof createSchemaRegistry>): HubConfig {
  try {
    return loadConfig({ env, schemas });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`kefu-hub: ${error.message}\nSee docs/configuration.md for every key and its allowed values.\n`);
    process.exit(1);
  }
}

async function resolveRedisOrExit(config: HubConfig, logger: Logger, workDir: string): Promise<ResolvedRedis> {
  try {
    return await resolveRedis({ configuredUrl: config.redisUrl, dataDir: resolve(workDir, "redis"), logger });
  } catch (error) {
    if (!(error instanceof RedisUnavailableError)) throw error;
    logger.fatal(error.message);
    process.stderr.write(`kefu-hub: ${error.message}\n`);
    process.exit(1);
  }
}

async function listen(server: Server, config: HubConfig, logger: Logger): Promise<void> {
  server.listen(config.port, config.host);
  await new Promise<void>((done, fail) => server.once("listening", done).once("error", fail));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const shown = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  logger.info(`kefu-hub listening on http://${shown}:${port} — Swagger UI at http://${shown}:${port}/docs`);
}

function stopOnSignals(running: Running, logger: Logger, graceMs: number): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting at once");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, graceMs }, "stopping: no new connections, finishing requests in flight");
    void stop(running, logger, graceMs).then(
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

/** Each step runs even when an earlier one failed; the first failure is rethrown at the end. */
async function stop({ server, hub, cleanups }: Running, logger: Logger, graceMs: number): Promise<void> {
  hub?.startDraining();
  const steps = [() => closeGracefully({ server, graceMs, logger }), ...(hub ? [() => hub.close()] : []), ...cleanups];
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(error);
    }
  }
  logger.info("stopped");
  logger.flush();
  if (failures.length > 0) throw failures[0];
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
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
