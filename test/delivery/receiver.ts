import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering. */
  delayMs?: number;
}

export interface Receiver {
  /** `http://127.0.0.1:<port>` */
  url: string;
  received: Received[];
  /** TCP connections accepted so far (the SSRF canary expects 0). */
  connections(): number;
  /** TCP connections open now (a closed connection pool leaves none). */
  openConnections(): number;
  /** Requests received and neither answered nor given up by the sender yet. */
  pending(): number;
  close(): Promise<void>;
}

/** A real webhook receiver on loopback; `answer` decides each response (default 204). */
export async function startReceiver(answer: (request: Received, index: number) => Answer | Promise<Answer> = () => ({ status: 204 })): Promise<Receiver> {
  const received: Received[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let connections = 0;
  let pending = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request: Received = { path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() };
      const index = received.push(request) - 1;
      pending++;
      // "close" comes once the answer is sent or the connection is gone (the sender timed out).
      res.once("close", () => pending--);
      void (async () => {
        const { status, headers = {}, body = "", delayMs = 0 } = await answer(request, index);
        if (delayMs > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              timers.delete(timer);
              resolve();
            }, delayMs);
            timers.add(timer);
          });
        }
        if (res.destroyed) return;
        res.writeHead(status, headers).end(body);
      })();
    });
  });
  const open = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    connections++;
    open.add(socket);
    socket.once("close", () => open.delete(socket));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    connections: () => connections,
    openConnections: () => open.size,
    pending: () => pending,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Verifies a received delivery with the standardwebhooks library; returns the parsed body. */
export function verify(secret: string, request: Received): { type: string; timestamp: string; data: Record<string, unknown> } {
  const headers: Record<string, string> = {};
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) headers[name] = String(request.headers[name]);
  return new Webhook(secret).verify(request.body, headers) as { type: string; timestamp: string; data: Record<string, unknown> };
}
