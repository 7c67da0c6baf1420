import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdirSync } from "node:fs";
import { createConnection } from "node:net";
import { delimiter, join } from "node:path";
import type { Logger } from "pino";
import { freePort } from "../net/free-port.ts";

export interface ResolvedRedis {
  url: string;
  /** Where it came from, for the start-up log. */
  origin: "configured" | "local" | "private";
  /** Stops the private redis-server, if one was started. */
  stop(): Promise<void>;
}

export interface ResolveRedisOptions {
  configuredUrl: string | undefined;
  /** Data folder of a private redis-server (AOF on). */
  dataDir: string;
  logger: Logger;
  /** PATH to look for redis-server in. @defaultValue process.env.PATH */
  path?: string;
  /** Where a local Redis is looked for first. @defaultValue 127.0.0.1:6379 */
  local?: { host: string; port: number };
}

export class RedisUnavailableError extends Error {
  override name = "RedisUnavailableError";
}

const LOCAL = { host: "127.0.0.1", port: 6379 };
const noop = async (): Promise<void> => {};

/** REDIS_URL if set; else a Redis at 127.0.0.1:6379; else a private redis-server; else a clear error. */
export async function resolveRedis(options: ResolveRedisOptions): Promise<ResolvedRedis> {
  const { configuredUrl, dataDir, logger, path = process.env["PATH"] ?? "", local = LOCAL } = options;
  if (configuredUrl) return { url: configuredUrl, origin: "configured", stop: noop };
  if (await answersRedis(local.host, local.port)) {
    return { url: `redis://${local.host}:${local.port}`, origin: "local", stop: noop };
  }
  const binary = findOnPath("redis-server", path);
  if (!binary) {
    throw new RedisUnavailableError(
      `kefu-hub needs Redis 7 and none answers at ${local.host}:${local.port}, nor is redis-server on PATH. Either\n` +
        "  - install it (Debian/Ubuntu: `apt-get install redis-server`; macOS: `brew install redis`), or\n" +
        "  - run `docker compose -f docker/docker-compose.yml up -d redis`, or\n" +
        "  - point REDIS_URL at one, e.g. REDIS_URL=redis://redis.internal:6379",
    );
  }
  return startPrivateRedis(binary, dataDir, logger);
}

async function startPrivateRedis(binary: string, dataDir: string, logger: Logger): Promise<ResolvedRedis> {
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const child = spawn(
    binary,
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dataDir, "--appendonly", "yes", "--save", "", "--maxmemory-policy", "noeviction"],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const deadline = Date.now() + 10_000;
  while (!(await answersRedis("127.0.0.1", port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new RedisUnavailableError(`the private redis-server (${binary}) did not start; see its output above`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  logger.info({ port, dataDir }, "started a private redis-server (AOF on); it stops with the hub");
  return { url: `redis://127.0.0.1:${port}`, origin: "private", stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** True when something at host:port answers PING the way Redis does (PONG, or an auth error). */
export function answersRedis(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(/^(\+PONG|-NOAUTH|-ERR)/.test(data.toString("latin1"))));
  });
}

function findOnPath(name: string, path: string): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}
