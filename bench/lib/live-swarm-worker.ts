// A child of bench/live.ts holding many WebSocket clients (a process may have 20,000 fds here,
// so 50,000 clients take several). Commands over IPC:
//   {cmd:"open", protocol, sockets:[{url, channel, since?}], concurrency} → {opened, failed, ms}
//   {cmd:"marks"} → {marks: {[round]: {count, lastAt, firstAt}}}: each received publication whose
//     data carries "round":N counts for round N, with its receipt time (epoch ms, sub-ms precision)
//   {cmd:"close"} → closes every client and exits.
import { WebSocket } from "ws";

interface Mark { count: number; firstAt: number; lastAt: number }
const clients: WebSocket[] = [];
const marks = new Map<number, Mark>();
const now = (): number => performance.timeOrigin + performance.now();
const ROUND = /"round":(\d+)/;

function onFrame(data: Buffer): void {
  const round = ROUND.exec(data.toString("latin1"));
  if (!round) return;
  const at = now();
  const key = Number(round[1]);
  const mark = marks.get(key);
  if (mark) {
    mark.count++;
    mark.lastAt = at;
  } else marks.set(key, { count: 1, firstAt: at, lastAt: at });
}

function openOne(url: string, protocol: string | undefined, channel: string, since: number | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, protocol ? [protocol] : [], { perMessageDeflate: false });
    let subscribed = false;
    socket.on("open", () => socket.send(JSON.stringify({ type: "subscribe", channel, ...(since !== undefined ? { since } : {}) })));
    socket.on("message", (data: Buffer) => {
      if (!subscribed && data.toString("latin1", 0, 22).startsWith('{"type":"subscribed"')) {
        subscribed = true;
        clients.push(socket);
        return resolve(true);
      }
      onFrame(data);
    });
    socket.on("error", () => resolve(false));
    socket.on("close", () => resolve(false));
  });
}

process.on("message", (message: { cmd: string; protocol?: string; sockets?: { url: string; channel: string; since?: number }[]; concurrency?: number }) => {
  void (async () => {
    if (message.cmd === "open") {
      const started = now();
      const sockets = message.sockets ?? [];
      let next = 0;
      let opened = 0;
      let failed = 0;
      await Promise.all(Array.from({ length: message.concurrency ?? 200 }, async () => {
        while (next < sockets.length) {
          const socket = sockets[next++];
          if (!socket) break;
          if (await openOne(socket.url, message.protocol, socket.channel, socket.since)) opened++;
          else failed++;
        }
      }));
      process.send?.({ opened, failed, ms: now() - started });
    } else if (message.cmd === "marks") {
      process.send?.({ marks: Object.fromEntries(marks) });
    } else if (message.cmd === "close") {
      for (const socket of clients) socket.terminate();
      process.exit(0);
    }
  })();
});
process.send?.("ready");
