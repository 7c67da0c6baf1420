// What every phase of bench/sessions.ts shares: settings from the environment and the hub's.
import { randomUUID } from "node:crypto";
import { streamSourceEnv } from "./stream-source-check.ts";

export interface SessionsBench {
  redisUrl: string;
  /** BENCH_ROUNDS. @defaultValue 3 */
  rounds: number;
  /** BENCH_SECONDS per load round. @defaultValue 4 */
  seconds: number;
  /** BENCH_CONNECTIONS. @defaultValue 50 */
  connections: number;
  readKey: string;
  /** The hub's settings: no demo business system, no demo behaviour generator, logs at info. */
  hubEnv: Record<string, string>;
  /** A Redis key prefix unique to this run and use (`bench-sessions-…`). */
  newPrefix: () => string;
  /** More hub env for a hub that consumes a Redis Stream (checked once; see stream-source-check.ts). */
  streamHubEnv: () => Promise<Record<string, string>>;
}

export function sessionsBenchFromEnv(): SessionsBench {
  const readKey = `bench-read-${randomUUID()}`;
  const redisUrl = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
  const newPrefix = (): string => `bench-sessions-${randomUUID().slice(0, 8)}`;
  let streamEnv: Promise<Record<string, string>> | undefined;
  return {
    redisUrl,
    rounds: Number(process.env["BENCH_ROUNDS"] ?? 3),
    seconds: Number(process.env["BENCH_SECONDS"] ?? 4),
    connections: Number(process.env["BENCH_CONNECTIONS"] ?? 50),
    readKey,
    hubEnv: {
      KEFU_API_KEYS: `${readKey}=read`,
      KEFU_LOG_LEVEL: process.env["BENCH_LOG_LEVEL"] ?? "info",
      KEFU_PLUGIN_WATCH: "false",
      KEFU_DEMO_BUSINESS_SYSTEM: "false",
      KEFU_DEMO_BEHAVIOR: "false",
    },
    newPrefix,
    streamHubEnv: () => (streamEnv ??= streamSourceEnv(redisUrl, newPrefix())),
  };
}
