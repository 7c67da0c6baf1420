import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { Logger } from "pino";
import type { ErrorCode } from "../http/errors.ts";
import { buildProblem, PROBLEM_CONTENT_TYPE } from "../http/problem.ts";
import type { FrameCodec } from "./frame-codec.ts";
import { handleConnection, type ConnectionLimits, type ConnectionPorts } from "./live-connection.ts";
import type { LiveTokens } from "./live-token.ts";

export const LIVE_PATH = "/v1/live";

export interface LiveGatewayOptions {
  tokens: LiveTokens;
  /** The subprotocols offered, in the order of preference when a client asks for several. */
  codecs: readonly FrameCodec[];
  ports: ConnectionPorts;
  limits: ConnectionLimits;
  /** @defaultValue 25000 */
  pingIntervalMs: number;
  logger: Logger;
}

export interface LiveGateway {
  /** The HTTP server's `upgrade` handler: 401/400 problem+json before the upgrade, else a live connection. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  connections(): number;
  /** Open connections and the bytes waiting in their send buffers (ws `bufferedAmount`, counted). */
  buffers(): { connections: number; bufferedBytes: number };
  /** Closes every connection with 1012 so that clients reconnect elsewhere and resume. Idempotent. */
  close(): Promise<void>;
}

/** The WebSocket side of the live gateway (docs/live.md). */
export function createLiveGateway({ tokens, codecs, ports, limits, pingIntervalMs, logger }: LiveGatewayOptions): LiveGateway {
  const chosen = (asked: ReadonlySet<string> | readonly string[]): FrameCodec | undefined => codecs.find((codec) => (asked instanceof Set ? asked.has(codec.subprotocol) : (asked as readonly string[]).includes(codec.subprotocol)));
  const offered = codecs.map((codec) => codec.subprotocol).join(" or ");
  // Frames over the limit are answered `error` by the connection; only far larger ones are cut by ws.
  const server = new WebSocketServer({ noServer: true, maxPayload: limits.maxFrameBytes * 4, handleProtocols: (protocols) => chosen(protocols)?.subprotocol ?? false });
  const alive = new WeakMap<WebSocket, boolean>();
  let closing: Promise<void> | undefined;
  const pinger = setInterval(() => {
    for (const socket of server.clients) {
      if (alive.get(socket) === false) {
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
  }, pingIntervalMs);
  pinger.unref();

  return {
    upgrade(req, socket, head) {
      if (closing) return refuse(socket, "not_ready", "the hub is shutting down; connect to another instance");
      const url = new URL(req.url ?? "/", "http://hub");
      if (url.pathname !== LIVE_PATH) return refuse(socket, "route_not_found", `no WebSocket endpoint at ${url.pathname}; use ${LIVE_PATH}`);
      const protocols = String(req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
      const codec = chosen(protocols);
      if (!codec) return refuse(socket, "validation_failed", `ask for the subprotocol ${offered} (Sec-WebSocket-Protocol)`);
      const header = req.headers.authorization;
      const token = url.searchParams.get("token") ?? (header?.startsWith("Bearer ") ? header.slice(7) : undefined);
      if (!token) return refuse(socket, "unauthorized", "a live token is required: ?token= or Authorization: Bearer (POST /v1/live/tokens issues one)");
      const principal = tokens.verify(token);
      if ("refused" in principal) return refuse(socket, "unauthorized", principal.refused);
      server.handleUpgrade(req, socket, head, (ws) => {
        alive.set(ws, true);
        ws.on("pong", () => alive.set(ws, true));
        ws.on("error", (error) => logger.debug({ err: error }, "live: connection error"));
        handleConnection(ws, principal, codec, ports, limits);
      });
    },
    connections: () => server.clients.size,
    buffers() {
      let bufferedBytes = 0;
      for (const socket of server.clients) bufferedBytes += socket.bufferedAmount;
      return { connections: server.clients.size, bufferedBytes };
    },
    close() {
      closing ??= (async () => {
        clearInterval(pinger);
        for (const socket of server.clients) socket.close(1012, "service restart");
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}

/** A problem+json answer written on the raw socket, since no HTTP response object exists before an upgrade. */
function refuse(socket: Duplex, code: ErrorCode, detail: string): void {
  const problem = buildProblem(code, detail, { instance: LIVE_PATH });
  const body = JSON.stringify(problem);
  socket.end(`HTTP/1.1 ${problem.status} ${problem.title}\r\ncontent-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
