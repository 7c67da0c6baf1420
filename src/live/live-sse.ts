import type { Request, Response } from "express";
import { HubError } from "../http/errors.ts";
import type { ChannelHistory } from "./channel-history.ts";
import { mayAccess, parseChannel } from "./channels.ts";
import { encodeJson, jsonCodec } from "./json-codec.ts";
import type { LocalFanout } from "./local-fanout.ts";
import type { LiveTokens } from "./live-token.ts";

/**
 * `GET /v1/live/sse?channel=…&token=…`: one channel, read-only, as Server-Sent Events, for clients
 * that cannot keep a WebSocket. `id:` is the offset, so `Last-Event-ID` resumes over the same
 * history; volatile publications (typing, context) carry no id and are not replayed.
 */
export function liveSse({ tokens, history, fanout, heartbeatMs }: { tokens: LiveTokens; history: ChannelHistory; fanout: LocalFanout; heartbeatMs: number }) {
  return async (req: Request, res: Response): Promise<void> => {
    const { channel: name, token } = req.query as { channel?: string; token?: string };
    const header = req.headers.authorization;
    const given = token ?? (header?.startsWith("Bearer ") ? header.slice(7) : undefined);
    if (!given) throw new HubError("unauthorized", "a live token is required: ?token= (POST /v1/live/tokens issues one)");
    const principal = tokens.verify(given);
    if ("refused" in principal) throw new HubError("unauthorized", principal.refused);
    const channel = typeof name === "string" ? parseChannel(name) : undefined;
    if (!channel) throw new HubError("validation_failed", "channel must be session:{id}, agent:{id} or queue:{name}", { errors: [{ pointer: "/query/channel", message: "is not a live channel" }] });
    if (!mayAccess(principal, channel)) throw new HubError("forbidden", `this token may not read ${channel.name}`);
    const since = Number(req.headers["last-event-id"]);
    res.status(200).set({ "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" });
    res.flushHeaders();
    let last = Number.isInteger(since) && since >= 0 ? since : 0;
    const write = (offset: number, frame: string, stored: boolean): void => {
      if (stored && offset <= last) return;
      if (stored) last = offset;
      res.write(`${stored ? `id: ${offset}\n` : ""}event: publication\ndata: ${frame}\n\n`);
    };
    const held: [number, string, boolean][] = [];
    let live = false;
    const stop = fanout.listen(channel.name, (frames) => {
      const { publication } = frames;
      const stored = !/^\{"kind":"(typing|context)"/.test(publication.dataJson);
      // jsonCodec encodes text.
      const frame = frames.in(jsonCodec) as string;
      if (live) write(publication.offset, frame, stored);
      else held.push([publication.offset, frame, stored]);
    });
    const heartbeat = setInterval(() => res.write(": heartbeat\n\n"), heartbeatMs);
    heartbeat.unref();
    res.on("close", () => {
      clearInterval(heartbeat);
      stop();
    });
    const replay = await history.replay(channel.name, Number.isInteger(since) && since >= 0 ? since : undefined);
    if (!replay.recovered) res.write(`event: unrecovered\ndata: {"channel":${JSON.stringify(channel.name)},"offset":${replay.offset},"epoch":${JSON.stringify(replay.epoch)}}\n\n`);
    if (!Number.isInteger(since)) last = replay.offset;
    for (const publication of replay.publications) {
      write(publication.offset, encodeJson({ type: "publication", ...publication }), true);
    }
    for (const [offset, frame, stored] of held) write(offset, frame, stored);
    live = true;
  };
}
