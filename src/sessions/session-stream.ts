import type { Request, Response } from "express";
import type { MirroredSession, SessionMirror } from "./session-mirror.ts";

export interface SessionStreamOptions {
  mirror: SessionMirror;
  /** Comment lines that keep proxies from closing an idle stream. @defaultValue 15000 */
  heartbeatMs: number;
}

/**
 * `GET /v1/sessions/{id}/stream`: Server-Sent Events, one `context` event with the whole context
 * per change, `id:` its version. A client that reconnects with `Last-Event-ID` gets the current
 * context only if it is newer than the one it holds: each event carries the whole context, so the
 * newest one is all that a resume needs.
 */
export function streamSession({ mirror, heartbeatMs }: SessionStreamOptions, req: Request, res: Response, sessionId: string, current: { version: number; body: Buffer }): void {
  res.status(200).set({ "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" });
  res.flushHeaders();
  let sent = Number(req.headers["last-event-id"] ?? 0) || 0;
  const send = (version: number, body: Buffer): void => {
    if (version <= sent) return;
    sent = version;
    // One chunk and one socket write (writev) per change; the context goes out as the mirror's
    // bytes. Corking the response alone makes it one chunk, but Node's uncork releases the socket
    // before it writes the chunk's pieces (length, CRLF, data…), each then a write of its own:
    // the socket is corked around it as well, so that they leave together.
    const socket = res.socket;
    socket?.cork();
    res.cork();
    res.write(`id: ${version}\nevent: context\ndata: `);
    res.write(body);
    res.write("\n\n");
    res.uncork();
    socket?.uncork();
  };
  send(current.version, current.body);
  const stop = mirror.listen(sessionId, (session: MirroredSession) => send(session.version, session.body));
  const heartbeat = setInterval(() => res.write(": heartbeat\n\n"), heartbeatMs);
  heartbeat.unref();
  const end = (): void => {
    clearInterval(heartbeat);
    stop();
  };
  req.on("close", end);
  res.on("close", end);
}
