import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Webhook receivers reachable as many distinct origins on loopback: `ports` servers, each bound to
 * 0.0.0.0 since a socket bound to 127.0.0.1 only answers for 127.0.0.1, while Linux routes all of
 * 127.0.0.0/8 to the loopback interface. Only 127.x.y.z URLs are ever handed out, and any
 * connection that arrives on another address is dropped at once.
 */
export interface OriginReceivers {
  /** The URL of origin `index` (0 … ports × hosts − 1): `http://127.0.<a>.<b>:<port>/s/<subscription>`. */
  urlOf(index: number, subscription: number): string;
  /** Deliveries received so far per `webhook-id`. */
  counts: Map<string, number>;
  /** Resolves once `id` has been received `count` times; rejects after `timeoutMs`. */
  waitForCount(id: string, count: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startOriginReceivers(ports: number): Promise<OriginReceivers> {
  const counts = new Map<string, number>();
  let waiting: { id: string; count: number; resolve: () => void } | undefined;
  const servers: Server[] = [];
  for (let p = 0; p < ports; p++) {
    const server = createServer((req, res) => {
      const id = String(req.headers["webhook-id"]);
      req.resume();
      req.on("end", () => {
        const count = (counts.get(id) ?? 0) + 1;
        counts.set(id, count);
        if (waiting?.id === id && count >= waiting.count) waiting.resolve();
        res.writeHead(204).end();
      });
    });
    server.on("connection", (socket) => {
      if (!socket.localAddress?.startsWith("127.")) socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
    servers.push(server);
  }
  const portsOf = servers.map((server) => (server.address() as AddressInfo).port);
  return {
    counts,
    urlOf(index, subscription) {
      const port = portsOf[index % ports] ?? 0;
      // Hosts 127.0.0.1, 127.0.0.2, … 127.0.0.250, 127.0.1.1, …: never .0 or .255 in the last byte.
      const host = Math.floor(index / ports);
      return `http://127.0.${Math.floor(host / 250)}.${(host % 250) + 1}:${port}/s/${subscription}`;
    },
    waitForCount(id, count, timeoutMs) {
      if ((counts.get(id) ?? 0) >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting = undefined;
          reject(new Error(`${id}: ${counts.get(id) ?? 0} of ${count} deliveries after ${timeoutMs} ms`));
        }, timeoutMs);
        waiting = {
          id,
          count,
          resolve: () => {
            clearTimeout(timer);
            waiting = undefined;
            resolve();
          },
        };
      });
    },
    async close() {
      await Promise.all(
        servers.map((server) => {
          server.closeAllConnections();
          return new Promise<void>((resolve) => server.close(() => resolve()));
        }),
      );
    },
  };
}
