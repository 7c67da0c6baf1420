import { Pool } from "undici";

export interface EventPosterOptions {
  /** Base URL of the hub or the glue. */
  url: string;
  apiKey: string;
  /** Tells this poster's event ids apart from every other's (ids look like `evt_<tag>-<i>`). */
  tag: string;
  /** Events carry `data.sessionId` = `S-<i % sessions>`. */
  sessions: number;
  /** Keep-alive connections of the pool. */
  connections: number;
}

export interface EventPoster {
  /** Posts event `i` to `POST /v1/events`; rejects unless it is answered 202. */
  post(i: number): Promise<void>;
  id(i: number): string;
  /** Any other authenticated call (e.g. creating a subscription): status, text and, for JSON, the parsed body. */
  call(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; text: string; body: unknown }>;
  close(): Promise<void>;
}

/**
 * Posts `chat.message.created` events (valid against schemas/events/) through one undici Pool:
 * the same code path for the hub and the glue. Not fetch: fetch costs the load generator several
 * times more CPU per request, which on two shared cores would be taken from the tested process.
 */
export function createEventPoster({ url, apiKey, tag, sessions, connections }: EventPosterOptions): EventPoster {
  const pool = new Pool(url, { connections });
  const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
  const id = (i: number): string => `evt_${tag}-${i}`;
  const call: EventPoster["call"] = async (method, path, body) => {
    const response = await pool.request({ path, method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await response.body.text();
    const json = String(response.headers["content-type"] ?? "").includes("json") && text !== "";
    return { status: response.statusCode, text, body: json ? (JSON.parse(text) as unknown) : undefined };
  };
  return {
    id,
    call,
    async post(i) {
      const event = {
        id: id(i),
        type: "chat.message.created",
        occurredAt: new Date().toISOString(),
        source: "bench",
        data: { sessionId: `S-${i % sessions}`, messageId: `M-${i}`, sender: { type: "customer", id: "C-1" }, text: "Where is my parcel?" },
      };
      const response = await pool.request({ path: "/v1/events", method: "POST", headers, body: JSON.stringify(event) });
      if (response.statusCode === 202) return void (await response.body.dump());
      throw new Error(`POST /v1/events answered ${response.statusCode}: ${(await response.body.text()).slice(0, 300)}`);
    },
    close: () => pool.close(),
  };
}
