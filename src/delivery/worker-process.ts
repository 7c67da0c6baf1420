import { createHub } from "../app.ts";
import type { HubConfig } from "../config/config.ts";
import { ConfigError, loadConfig } from "../config/load-config.ts";
import { createLogger } from "../observability/logger.ts";
import { hubPaths } from "../paths.ts";
import { createRedisFactory } from "../redis/redis-factory.ts";
import { createSchemaRegistry } from "../schemas/schema-registry.ts";

export interface WorkerProcessOptions {
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * `kefu-hub worker`: the fan-out and delivery workers alone, without the HTTP API, so that they
 * scale out over machines sharing one Redis. The hub is composed as by `start` (same enrichers,
 * so routing decides the same way), only not listening. SIGTERM/SIGINT let active deliveries
 * finish within `shutdownGraceMs`; what does not finish is retaken by another worker once its lock
 * expires.
 */
export async function runWorker({ env }: WorkerProcessOptions): Promise<void> {
  const paths = hubPaths();
  const schemas = createSchemaRegistry(paths.schemas);
  let config: HubConfig;
  try {
    config = loadConfig({ env, schemas, overrides: { deliveryWorkers: true } });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`kefu-hub worker: ${error.message}\nSee docs/configuration.md for every key and its allowed values.\n`);
    process.exit(1);
  }
  if (!config.redisUrl) {
    // A worker with a Redis of its own would deliver nothing anyone accepted.
    process.stderr.write("kefu-hub worker: set REDIS_URL to the Redis the hubs use\n");
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, isTty: process.stdout.isTTY === true });
  const redis = createRedisFactory(config.redisUrl, logger);
  // Workers start delivering while the rest of the hub is still being composed: a signal in that
  // window waits for the hub and then closes it, rather than killing an active delivery.
  const starting = createHub({ config, logger, schemas, redis, paths });
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal, graceMs: config.shutdownGraceMs }, "worker stopping: finishing active deliveries");
    starting.then((hub) => hub.close()).then(
      () => {
        logger.info("worker stopped");
        logger.flush();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "worker shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  await starting;
  logger.info({ concurrency: config.deliveryConcurrency, prefix: config.redisPrefix }, "kefu-hub worker: delivering");
}
