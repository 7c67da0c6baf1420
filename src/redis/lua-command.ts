import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";

/**
 * Registers the Lua script in `file` (a URL next to its caller, e.g.
 * `new URL("./lua/accept-event.lua", import.meta.url)`) as the command `name` on `redis`, run with
 * EVALSHA and loaded on first use per connection. Scripts live in files, with their arguments
 * named at the top, as BullMQ keeps its `commands/*.lua`.
 */
export function defineLuaCommand(redis: Redis, name: string, file: URL, numberOfKeys?: number): void {
  const lua = readFileSync(file, "utf8");
  redis.defineCommand(name, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys });
}
