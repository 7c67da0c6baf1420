// One WebSocket client in the bench process itself, for the phases with few sockets.
import { WebSocket } from "ws";

export interface BenchSocket {
  socket: WebSocket;
  /** Resolves with the first text frame whose JSON matches. */
  until(match: (frame: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export function openSocket(url: string, protocol: string | undefined, onFrame?: (frame: Record<string, unknown>) => void): Promise<BenchSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocol ? [protocol] : [], { perMessageDeflate: false });
    const waiters = new Set<(frame: Record<string, unknown>) => void>();
    socket.on("message", (raw: Buffer) => {
      const frame = JSON.parse(raw.toString()) as Record<string, unknown>;
      onFrame?.(frame);
      for (const waiter of waiters) waiter(frame);
    });
    socket.once("error", reject);
    socket.once("open", () => resolve({
      socket,
      until: (match, timeoutMs = 10_000) => new Promise((done, fail) => {
        const timer = setTimeout(() => (waiters.delete(waiter), fail(new Error("no matching frame in time"))), timeoutMs);
        const waiter = (frame: Record<string, unknown>): void => {
          if (!match(frame)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          done(frame);
        };
        waiters.add(waiter);
      }),
    }));
  });
}
