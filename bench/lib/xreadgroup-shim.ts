// Preloaded into the hub (NODE_OPTIONS=--import) by bench/lib/stream-source-check.ts only when the
// hub's Redis Stream source cannot read with the installed ioredis: ioredis 6's `redis.call("XREADGROUP", …)`
// answers flattened (`[stream, entries, …]`) where src/sessions/sources/redis-stream-source.ts expects
// Redis's nested reply (`[[stream, entries], …]`), so the source fails on every read and never consumes.
// This puts the reply back in the nested shape (what `redis.xreadgroup()` answers), nothing else, so
// that the bench can measure the rest of the path until the source is fixed.
import { Redis } from "ioredis";

type Call = (...args: unknown[]) => Promise<unknown>;
const prototype = Redis.prototype as unknown as { call: Call };
const original = prototype.call;

const nested = (reply: unknown): unknown => {
  if (!Array.isArray(reply) || typeof reply[0] !== "string") return reply;
  const pairs: unknown[] = [];
  for (let k = 0; k < reply.length; k += 2) pairs.push([reply[k], reply[k + 1]]);
  return pairs;
};

prototype.call = function (this: Redis, ...args: unknown[]): Promise<unknown> {
  const result = original.apply(this, args);
  return String(args[0]).toUpperCase() === "XREADGROUP" ? result.then(nested) : result;
};
