import { WebSocket } from "ws";
import type { TestHub } from "../helpers/test-hub.ts";
import { protoClientFrame, protoServerFrame } from "./proto-frames.ts";
import { serverFrameViolations } from "./server-frame-check.ts";

export interface Frame {
  type: string;
  [key: string]: unknown;
}

export type LiveProtocol = "json" | "proto";

/**
 * A test client of the live protocol: every frame it receives is kept (as the JSON object, in
 * either subprotocol) and can be waited for. Each received frame is checked against
 * schemas/live/server-frame.schema.json; `next` and `close` fail once one did not match.
 */
export interface LiveClient {
  socket: WebSocket;
  protocol: LiveProtocol;
  frames: Frame[];
  /** Sends a frame given as the JSON object, encoded for the client's subprotocol. */
  send(frame: Record<string, unknown>): void;
  /** The first received frame (from `from` on) that matches, waiting for it. */
  next(match: (frame: Frame) => boolean, timeoutMs?: number, from?: number): Promise<Frame>;
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

export async function issueToken(hub: TestHub, body: Record<string, unknown>): Promise<string> {
  const response = await hub.request("/v1/live/tokens", { method: "POST", json: body });
  if (response.status !== 201) throw new Error(`POST /v1/live/tokens answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}

export async function connectLive(url: string, token: string, protocol: LiveProtocol = "json"): Promise<LiveClient> {
  const socket = new WebSocket(`${url.replace("http", "ws")}/v1/live?token=${encodeURIComponent(token)}`, `kefu.v1.${protocol}`);
  const frames: Frame[] = [];
  const violations: string[] = [];
  const waiters = new Set<() => void>();
  const checked = (): void => {
    if (violations.length > 0) throw new Error(`server frames outside server-frame.schema.json:\n${violations.join("\n")}`);
  };
  socket.on("message", (data, isBinary) => {
    if (isBinary !== (protocol === "proto")) violations.push(`a ${isBinary ? "binary" : "text"} frame over kefu.v1.${protocol}`);
    const frame = protocol === "proto" ? protoServerFrame(data as Buffer) : (JSON.parse((data as Buffer).toString()) as Frame);
    violations.push(...serverFrameViolations(frame));
    frames.push(frame);
    for (const wake of waiters) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => socket.once("open", resolve).once("error", reject));
  return {
    socket,
    protocol,
    frames,
    closed,
    send: (frame) => socket.send(protocol === "proto" ? protoClientFrame(frame) : JSON.stringify(frame)),
    next(match, timeoutMs = 5000, from = 0) {
      checked();
      return new Promise((resolve, reject) => {
        const look = (): boolean => {
          if (violations.length > 0) {
            clearTimeout(timer);
            waiters.delete(wake);
            reject(new Error(`server frames outside server-frame.schema.json:\n${violations.join("\n")}`));
            return true;
          }
          const found = frames.slice(from).find(match);
          if (found) {
            clearTimeout(timer);
            waiters.delete(wake);
            resolve(found);
          }
          return Boolean(found);
        };
        const wake = (): void => void look();
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames.slice(from)).slice(0, 800)}`));
        }, timeoutMs);
        if (!look()) waiters.add(wake);
      });
    },
    async close() {
      if (socket.readyState !== socket.CLOSED) {
        socket.close();
        await closed;
      }
      checked();
    },
  };
}

/** Status and body of an upgrade the hub refuses. */
export function refusedUpgrade(url: string, query: string, protocol = "kefu.v1.json"): Promise<{ status: number; body: string; contentType: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace("http", "ws")}/v1/live${query}`, protocol);
    socket.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, contentType: String(res.headers["content-type"]) }));
    });
    socket.on("open", () => reject(new Error("the upgrade was accepted")));
    socket.on("error", () => undefined);
  });
}
