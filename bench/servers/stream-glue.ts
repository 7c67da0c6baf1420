// Baseline for bench/sessions.ts: the consumer an integrator would write instead of kefu-hub's
// session intake — XREADGROUP COUNT 500, JSON.parse each entry, a Set lookup of its customer, an
// HSET per event that passes (pipelined), XACK. No Bloom filter, no validation, no idempotency, no
// fusion, no risk, no versioned context, no change feed: the floor of "consume and filter".
// Env: REDIS_URL, GLUE_STREAM, GLUE_GROUP, GLUE_PREFIX (its HSET keys), GLUE_OPEN_CUSTOMERS (customers
// bc-0 … bc-(n-1) have a session). Sends "ready" over IPC once its group exists; runs until SIGTERM.
import { Redis } from "ioredis";
import { customerIdOf } from "../lib/session-seed.ts";

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
}
const stream = env("GLUE_STREAM");
const group = env("GLUE_GROUP");
const prefix = env("GLUE_PREFIX");
const open = new Set(Array.from({ length: Number(env("GLUE_OPEN_CUSTOMERS")) }, (_, i) => customerIdOf(i)));
const redis = new Redis(process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379");
let stopped = false;
process.once("SIGTERM", () => (stopped = true));

try {
  await redis.xgroup("CREATE", stream, group, "0", "MKSTREAM");
} catch (error) {
  if (!String((error as Error).message).includes("BUSYGROUP")) throw error;
}
process.send?.("ready");

type Entries = [id: string, fields: string[]][];
while (!stopped) {
  // The method, not redis.call: ioredis 6's call() answers XREADGROUP flattened ([stream, entries, …]).
  const reply = (await redis.xreadgroup("GROUP", group, "glue", "COUNT", 500, "BLOCK", 200, "STREAMS", stream, ">")) as [string, Entries][] | null;
  const entries = reply?.[0]?.[1] ?? [];
  if (entries.length === 0) continue;
  const pipeline = redis.pipeline();
  for (const [, fields] of entries) {
    const raw = fields[fields.indexOf("event") + 1] ?? "";
    const event = JSON.parse(raw) as { id: string; customerId: string; type: string };
    if (open.has(event.customerId)) pipeline.hset(`${prefix}:glue:${event.customerId}`, "last", raw, "type", event.type);
  }
  pipeline.xack(stream, group, ...entries.map(([id]) => id));
  await pipeline.exec();
}
redis.disconnect();
