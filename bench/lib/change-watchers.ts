// Where bench/sessions.ts sees a behaviour event arrive: on an SSE connection to a session, in a
// GET of it polled with If-None-Match, or (the floor) in a bare XREADGROUP of the stream. Each event
// carries `data.sentAt` (performance.now() of this process when it was XADDed).
import type { Redis } from "ioredis";

interface Recent {
  id: string;
  data?: { sentAt?: unknown };
}

/** Latencies (ms) of events seen for the first time, per watcher kind. */
export class LatencyLog {
  readonly values: number[] = [];
  private readonly seen = new Set<string>();

  /** Records every recent event not seen before that carries a send time. */
  take(recent: readonly Recent[], now: number): void {
    for (const event of recent) {
      const sentAt = event.data?.sentAt;
      if (typeof sentAt !== "number" || this.seen.has(event.id)) continue;
      this.seen.add(event.id);
      this.values.push(now - sentAt);
    }
  }

  reset(): void {
    this.values.length = 0;
  }
}

const recentOf = (json: string): Recent[] => (JSON.parse(json) as { behavior: { recent: Recent[] } }).behavior.recent;

/** Reads `GET /v1/sessions/{id}/stream` until `signal` aborts; every `context` event goes to `log`. */
export async function watchSse(url: string, headers: Record<string, string>, log: LatencyLog, signal: AbortSignal): Promise<void> {
  const res = await fetch(url, { headers, signal });
  if (res.status !== 200 || !res.body) throw new Error(`SSE ${url} answered ${res.status}`);
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of res.body) {
      const now = performance.now();
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (data !== undefined && /^event: context$/m.test(block)) log.take(recentOf(data), now);
      }
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}

/** Polls `GET /v1/sessions/{id}` back to back with If-None-Match until `signal` aborts. */
export async function pollGet(url: string, headers: Record<string, string>, log: LatencyLog, signal: AbortSignal): Promise<number> {
  let etag = "";
  let polls = 0;
  while (!signal.aborted) {
    const res = await fetch(url, { headers: { ...headers, "if-none-match": etag } });
    const now = performance.now();
    polls++;
    if (res.status === 304) continue;
    if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
    etag = res.headers.get("etag") ?? "";
    log.take(recentOf(await res.text()), now);
  }
  return polls;
}

/** The floor: a consumer group of this process reading the same stream with XREADGROUP BLOCK. */
export async function watchStream(redis: Redis, stream: string, log: LatencyLog, signal: AbortSignal): Promise<void> {
  await redis.xgroup("CREATE", stream, "floor", "$", "MKSTREAM");
  while (!signal.aborted) {
    const reply = (await redis.xreadgroup("GROUP", "floor", "floor", "COUNT", 500, "BLOCK", 200, "STREAMS", stream, ">")) as [string, [string, string[]][]][] | null;
    const now = performance.now();
    const entries = reply?.[0]?.[1] ?? [];
    log.take(entries.map(([, fields]) => JSON.parse(fields[fields.indexOf("event") + 1] ?? "{}") as Recent), now);
    if (entries.length > 0) await redis.xack(stream, "floor", ...entries.map(([id]) => id));
  }
}
