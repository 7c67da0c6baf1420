import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import type { RequestListener, Server } from "node:http";
import { resolve } from "node:path";
import type { Logger } from "pino";
import { createHub, type Hub } from "./app.ts";
import type { HubConfig } from "./config/config.ts";
import { listenHost, listeningMessage } from "./config/listen-host.ts";
import { ConfigError, loadConfig } from "./config/load-config.ts";
import { bootingHandler } from "./http/booting-handler.ts";
import { createHubServer } from "./http/create-server.ts";
import { closeGracefully } from "./http/graceful-close.ts";
import { createLogger } from "./observability/logger.ts";
import { hubPaths } from "./paths.ts";
import { startDemoIfEnabled } from "./plugins/demo-launch.ts";
import { checkAppendOnly } from "./redis/check-append-only.ts";
import { checkEvictionPolicy } from "./redis/check-eviction-policy.ts";
import { createRedisFactory } from "./redis/redis-factory.ts";
import { RedisUnavailableError, resolveRedis, type ResolvedRedis } from "./redis/resolve-redis.ts";
import { waitForRedis } from "./redis/wait-for-redis.ts";
import { boundHeapGrowth, releaseFreedHeap } from "./release-freed-heap.ts";
import { createSchemaRegistry } from "./schemas/schema-registry.ts";

/** The worked example of docs/routing.md, the demo's routing ruleset. */
const DEMO_RULESET = "docs/examples/manufacturer-ruleset.json";

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
  boundHeapGrowth();
  const paths = hubPaths();
  const schemas = createSchemaRegistry(paths.schemas);
  const config = loadConfigOrExit(env, schemas);
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, isTty: process.stdout.isTTY === true });
  const host = listenHost({ configuredHost: config.host, keysConfigured: config.apiKeys.length > 0 });
  if (config.apiKeys.length === 0) config.apiKeys = [generateAdminKey(logger, config.host === undefined)];
  const redisServer = await resolveRedisOrExit(config, logger, workDir);

  let status = `waiting for Redis at ${redactUrl(redisServer.url)}`;
  let handler: RequestListener = bootingHandler(() => status);
  const running: Running = { server: createHubServer((req, res) => handler(req, res), { logger }), cleanups: [() => redisServer.stop()] };
  // WebSocket upgrades (the live gateway) wait for the hub like every other request.
  running.server.on("upgrade", (req, socket, head) => (running.hub ? running.hub.upgrade(req, socket, head) : socket.destroy()));
  stopOnSignals(running, logger, config.shutdownGraceMs);
  await listen(running.server, config.port, host, logger);

  let demo: Awaited<ReturnType<typeof startDemoIfEnabled>>;
  try {
    const started = (demo = await startDemoIfEnabled(config, logger, paths.root));
    if (started) running.cleanups.unshift(() => started.close());
    const redis = createRedisFactory(redisServer.url, logger);
    const probe = redis.create("startup-check", { maxRetriesPerRequest: null });
    await waitForRedis(probe, logger);
    await checkEvictionPolicy(probe, logger);
    await checkAppendOnly(probe, logger);
    await probe.quit();

    status = "loading plugins, rulesets and queues";
    // With the demo business system, routing starts from the worked example of docs/routing.md
    // (while Redis holds no ruleset), so that decisions show more than the default route.
    const example = demo ? resolve(paths.root, DEMO_RULESET) : undefined;
    running.hub = await createHub({ config, logger, schemas, redis, paths, ...(example && existsSync(example) ? { exampleRules: example } : {}) });
  } catch (error) {
    // createHub closed what it opened; the port, the demo system and a private redis-server are ours.
    logger.fatal({ err: error }, "kefu-hub could not start; stopping what it had started");
    await stop(running, logger, 0).catch((stopError: unknown) => logger.error({ err: stopError }, "could not stop everything after the failed start"));
    throw error;
  }
  handler = running.hub.listener;
  if (demo && config.demoBehavior) running.hub.startDemoBehavior();
  if (demo) await startDemoInbound(running.hub, running.server, logger);
  // What start-up allocated and dropped (the open sessions' replies among it) goes back to the OS.
  releaseFreedHeap();
  logger.info({ redis: redisServer.origin }, "kefu-hub is ready");
}

/** The demo carrier's inbound source, and how to push to it; a failure only costs the demo. */
async function startDemoInbound(hub: Hub, server: Server, logger: Logger): Promise<void> {
  const bound = server.address();
  const port = typeof bound === "object" && bound ? bound.port : 8080;
  try {
    const hint = await hub.startDemoInbound(`http://127.0.0.1:${port}`);
    if (hint) logger.info(hint);
  } catch (error) {
    logger.warn({ err: error }, "could not configure the demo inbound source demo-carrier");
  }
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

async function listen(server: Server, port: number, host: string, logger: Logger): Promise<void> {
  server.listen(port, host);
  await new Promise<void>((done, fail) => server.once("listening", done).once("error", fail));
  const bound = server.address();
  const address = typeof bound === "object" && bound ? bound.address : host;
  const boundPort = typeof bound === "object" && bound ? bound.port : port;
  logger.info({ address, port: boundPort }, listeningMessage(address, boundPort));
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

function generateAdminKey(logger: Logger, loopbackOnly: boolean): { key: string; scopes: ["admin"] } {
  const key = `kefu_${randomBytes(24).toString("base64url")}`;
  const reach = loopbackOnly ? " Without configured keys the hub listens on 127.0.0.1 only (HOST overrides it)." : "";
  logger.warn(
    `No API keys configured (KEFU_API_KEYS), so this run made an admin key, shown once:\n\n    ${key}\n\n` +
      'Use it as "Authorization: Bearer <key>" or in Swagger UI\'s Authorize. To keep a key across ' +
      `restarts set KEFU_API_KEYS, e.g. KEFU_API_KEYS="<long-random-key>=admin,<another>=ingest+read".${reach}`,
  );
  return { key, scopes: ["admin"] };
}
