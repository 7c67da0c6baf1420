import type { Express } from "express";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { HubConfig } from "./config/config.ts";
import { createAuth } from "./http/auth.ts";
import { createHttpApp } from "./http/create-http-app.ts";
import { bundleOpenApi } from "./http/openapi-document.ts";
import { whoamiRoutes } from "./http/whoami-routes.ts";
import type { HubModule } from "./hub-module.ts";
import type { ReadinessReport } from "./observability/health-routes.ts";
import { createMetrics, type HubMetrics } from "./observability/metrics.ts";
import type { HubPaths } from "./paths.ts";
import type { RedisFactory } from "./redis/redis-factory.ts";
import type { SchemaRegistry } from "./schemas/schema-registry.ts";

export interface HubDependencies {
  config: HubConfig;
  logger: Logger;
  schemas: SchemaRegistry;
  redis: RedisFactory;
  paths: HubPaths;
}

export interface Hub {
  app: Express;
  metrics: HubMetrics;
  /** From now on answers carry `Connection: close`. */
  startDraining(): void;
  /** Closes every module, then Redis; each step runs even when an earlier one fails. Idempotent. */
  close(): Promise<void>;
}

/** The composition root: every module is created here with what it depends on. */
export async function createHub({ config, logger, schemas, redis, paths }: HubDependencies): Promise<Hub> {
  const metrics = createMetrics();
  const auth = createAuth(config.apiKeys);
  const redisMain = redis.create("main");

  const modules: HubModule[] = [
    { name: "whoami", router: whoamiRoutes(auth) },
  ];

  const readiness = async (): Promise<ReadinessReport> => {
    const checks: Record<string, string> = { redis: await pingRedis(redisMain) };
    for (const module of modules) {
      if (!module.readiness) continue;
      try {
        checks[module.name] = await module.readiness();
      } catch (error) {
        checks[module.name] = (error as Error).message;
      }
    }
    return { ready: Object.values(checks).every((state) => state === "ok"), checks };
  };

  let draining = false;
  const app = createHttpApp({
    logger,
    metrics,
    openapi: bundleOpenApi({ rootFile: paths.openapi, schemasDir: paths.schemas, schemas }),
    bodyLimit: config.bodyLimit,
    routers: modules.flatMap((module) => (module.router ? [module.router] : [])),
    readiness,
    isDraining: () => draining,
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      for (const module of [...modules].reverse()) {
        try {
          await module.close?.();
        } catch (error) {
          logger.error({ err: error, module: module.name }, "module failed to close");
        }
      }
      await redis.closeAll();
    })());

  return { app, metrics, startDraining: () => (draining = true), close };
}

async function pingRedis(redis: Redis): Promise<string> {
  if (redis.status !== "ready") return `redis is ${redis.status}`;
  const timeout = new Promise<string>((resolve) => setTimeout(() => resolve("redis did not answer PING within 1s"), 1000).unref());
  return Promise.race([redis.ping().then(() => "ok", (error: Error) => error.message), timeout]);
}
