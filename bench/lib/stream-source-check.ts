// Whether the hub's Redis Stream source reads entries with the installed ioredis; if not, the hub
// settings that preload bench/lib/xreadgroup-shim.ts (BENCH_STREAM_SHIM: auto (default), on, off).
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { createRedisStreamSource } from "../../src/sessions/sources/redis-stream-source.ts";
import { sleep } from "./pacing.ts";

async function sourceReads(redisUrl: string, prefix: string): Promise<{ ok: boolean; error: string }> {
  const stream = `${prefix}:source-check`;
  const redis = new Redis(redisUrl);
  const reader = new Redis(redisUrl);
  let error = "";
  const logger = { warn: (fields: { err?: Error }) => void (error = fields.err?.message ?? "unknown") } as unknown as Logger;
  const source = createRedisStreamSource({ redis: reader, stream, logger, blockMs: 100, backoffMs: 50 });
  let received = 0;
  try {
    await redis.xadd(stream, "*", "event", "{}");
    await source.start((items) => Promise.resolve(void (received += items.length)));
    for (let k = 0; k < 40 && received === 0; k++) await sleep(50);
    return { ok: received > 0, error };
  } finally {
    await source.close();
    await redis.del(stream);
    redis.disconnect();
    reader.disconnect();
  }
}

/** Extra hub env for the stream phases; prints why when the shim is used. */
export async function streamSourceEnv(redisUrl: string, prefix: string): Promise<Record<string, string>> {
  const mode = process.env["BENCH_STREAM_SHIM"] ?? "auto";
  const shim = { NODE_OPTIONS: `${process.env["NODE_OPTIONS"] ?? ""} --import=${fileURLToPath(new URL("./xreadgroup-shim.ts", import.meta.url))}`.trim() };
  if (mode === "off") return {};
  if (mode === "on") return shim;
  const check = await sourceReads(redisUrl, prefix);
  if (check.ok) return {};
  console.log(`\n!! the hub's Redis Stream source reads nothing here ("${check.error}"): src/sessions/sources/redis-stream-source.ts`);
  console.log("!! reads redis.call('XREADGROUP') as nested, but ioredis 6 answers it flattened. The hub is run with");
  console.log("!! bench/lib/xreadgroup-shim.ts preloaded (reply re-nested, nothing else); BENCH_STREAM_SHIM=off to run without.");
  return shim;
}
