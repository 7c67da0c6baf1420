import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";

export interface RedisFactory {
  readonly url: string;
  /** A new connection named after its purpose (visible in `CLIENT LIST`); closed by {@link closeAll}. */
  create(purpose: string, options?: RedisOptions): Redis;
  /** Quits every connection made here; idempotent. */
  closeAll(): Promise<void>;
}

/**
 * The one place that opens Redis connections. No `keyPrefix`: BullMQ refuses it, so every module
 * builds its keys from `config.redisPrefix` itself.
 */
export function createRedisFactory(url: string, logger: Logger): RedisFactory {
  const open = new Set<Redis>();
  // ioredis reconnects by itself; without a listener it would print every failed attempt to stderr.
  let lastLogged = 0;
  const onError = (purpose: string) => (error: Error): void => {
    if (Date.now() - lastLogged < 5000) return;
    lastLogged = Date.now();
    logger.error({ err: error, purpose }, "Redis connection error (retrying)");
  };
  return {
    url,
    create(purpose, options = {}) {
      const connection = new Redis(url, { connectionName: `kefu-hub:${purpose}`, ...options });
      connection.on("error", onError(purpose));
      open.add(connection);
      connection.once("end", () => open.delete(connection));
      return connection;
    },
    async closeAll() {
      const closing = [...open].map(async (connection) => {
        open.delete(connection);
        // QUIT would queue behind commands waiting for a reconnect that may never come.
        if (connection.status !== "ready") {
          connection.disconnect();
          return;
        }
        const quit = connection.quit().then(() => undefined, () => undefined);
        const timeout = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
        await Promise.race([quit, timeout]);
        connection.disconnect();
      });
      await Promise.all(closing);
    },
  };
}
