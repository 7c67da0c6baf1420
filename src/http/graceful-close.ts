import type { Server } from "node:http";
import { Server as NetServer } from "node:net";
import type { Logger } from "pino";

export interface GracefulCloseOptions {
  server: Server;
  graceMs: number;
  logger: Logger;
  /** How often connections that went idle are closed. @defaultValue 250 */
  idleSweepMs?: number;
}

/**
 * Stops accepting connections and lets requests in flight finish. http.Server#close would also
 * close every idle keep-alive socket at once, racing a client that is just sending its next request
 * on it (which then sees a reset). Instead the listening socket is closed alone; answers carry
 * `Connection: close` meanwhile (the caller turned draining on), so busy clients go away after
 * their current request, and sockets that stay idle are swept shortly after.
 */
export async function closeGracefully({ server, graceMs, logger, idleSweepMs = 250 }: GracefulCloseOptions): Promise<void> {
  const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
  const sweep = setInterval(() => server.closeIdleConnections(), idleSweepMs);
  const grace = setTimeout(() => {
    logger.warn({ graceMs }, "grace period over: closing the connections still open");
    server.closeAllConnections();
  }, graceMs);
  try {
    await closed;
  } finally {
    clearInterval(sweep);
    clearTimeout(grace);
  }
}
