// The floor of bench/live.ts: a bare `ws` server with one Set per channel and no auth, no Redis,
// no validation. Text frames in: {"type":"subscribe","channel":c,"since"?:n} joins (answered
// {"type":"subscribed"}, then the kept frames after `since`), {"type":"publish","channel":c,"data":{…}}
// builds the publication frame once and sends it to the channel's Set. It keeps each channel's
// last 1,000 frames in memory only so that the resume figure has a floor too.
// argv[2]: port. Sends "ready" over IPC once listening.
import { WebSocketServer, type WebSocket } from "ws";

const port = Number(process.argv[2]);
const channels = new Map<string, Set<WebSocket>>();
const kept = new Map<string, string[]>();
const server = new WebSocketServer({ port, host: "127.0.0.1", perMessageDeflate: false });

server.on("connection", (socket) => {
  const joined: string[] = [];
  socket.on("message", (raw) => {
    const frame = JSON.parse((raw as Buffer).toString()) as { type: string; channel: string; since?: number; data?: unknown };
    if (frame.type === "subscribe") {
      let set = channels.get(frame.channel);
      if (!set) channels.set(frame.channel, (set = new Set()));
      set.add(socket);
      joined.push(frame.channel);
      socket.send('{"type":"subscribed"}');
      if (frame.since !== undefined) for (const kept_ of (kept.get(frame.channel) ?? []).slice(frame.since)) socket.send(kept_);
    } else if (frame.type === "publish") {
      const history = kept.get(frame.channel) ?? [];
      kept.set(frame.channel, history);
      const text = `{"type":"publication","channel":${JSON.stringify(frame.channel)},"offset":${history.length + 1},"data":${JSON.stringify(frame.data)}}`;
      history.push(text);
      if (history.length > 1000) history.shift();
      for (const peer of channels.get(frame.channel) ?? []) peer.send(text);
    }
  });
  socket.on("close", () => {
    for (const name of joined) channels.get(name)?.delete(socket);
  });
});
server.on("listening", () => process.send?.("ready"));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
