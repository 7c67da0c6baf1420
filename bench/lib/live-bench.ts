// What every phase of bench/live.ts shares: knobs (CLI --name=value, else BENCH_* env, else the
// issue's default), hub processes sharing one Redis prefix, bare ws servers, tokens.
import { randomUUID } from "node:crypto";
import type { ChildProcess } from "node:child_process";
import { createLiveTokens, type LiveTokens } from "../../src/live/live-token.ts";
import { deleteKeysAt } from "../../test/helpers/delete-keys.ts";
import { forkServer, freePort, startHub, stop, type BenchHub } from "./processes.ts";

/** `--connections=50000` or BENCH_CONNECTIONS=50000, else the fallback. */
export function knob(name: string, fallback: number): number {
  const flag = process.argv.find((arg) => arg.startsWith(`--${name}=`));
  const raw = flag ? flag.slice(name.length + 3) : process.env[`BENCH_${name.toUpperCase().replaceAll("-", "_")}`];
  const value = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number, not ${raw}`);
  return value;
}

export interface LiveBench {
  redisUrl: string;
  rounds: number;
  adminKey: string;
  tokens: LiveTokens;
  /** Hub processes on one new Redis prefix (so that they fan out to each other); stop() deletes its keys. */
  startHubs(count: number, env?: Record<string, string>): Promise<HubGroup>;
  /** Bare ws servers (bench/servers/bare-ws.ts), one process each. */
  startBare(count: number): Promise<BareGroup>;
}

export interface HubGroup { prefix: string; ports: number[]; pids: number[]; hubs: BenchHub[]; stop(): Promise<void> }
export interface BareGroup { ports: number[]; pids: number[]; stop(): Promise<void> }

export function liveBenchFromEnv(): LiveBench {
  const redisUrl = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
  const adminKey = `bench-admin-${randomUUID()}`;
  const secret = `bench-live-${randomUUID()}`;
  return {
    redisUrl,
    rounds: knob("rounds", 3),
    adminKey,
    tokens: createLiveTokens([secret]),
    async startHubs(count, env = {}) {
      const prefix = `bench-live-${randomUUID().slice(0, 8)}`;
      const hubEnv = {
        KEFU_API_KEYS: `${adminKey}=admin`,
        KEFU_LIVE_TOKEN_SECRETS: secret,
        KEFU_LOG_LEVEL: "warn",
        KEFU_PLUGIN_WATCH: "false",
        KEFU_DEMO_BUSINESS_SYSTEM: "false",
        KEFU_DEMO_BEHAVIOR: "false",
        ...env,
      };
      const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
      const hubs: BenchHub[] = [];
      try {
        for (const port of ports) hubs.push(await startHub(hubEnv, port, { prefix, readyTimeoutMs: 60_000 }));
      } catch (error) {
        await Promise.allSettled(hubs.map((hub) => stop(hub.child)));
        throw error;
      }
      return {
        prefix,
        ports,
        hubs,
        pids: hubs.map((hub) => hub.child.pid ?? NaN),
        async stop() {
          await Promise.allSettled(hubs.map((hub) => stop(hub.child)));
          await deleteKeysAt(redisUrl, prefix);
        },
      };
    },
    async startBare(count) {
      const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
      const children: ChildProcess[] = await Promise.all(ports.map((port) => forkServer(new URL("../servers/bare-ws.ts", import.meta.url), port, { execArgv: [] })));
      return { ports, pids: children.map((child) => child.pid ?? NaN), stop: async () => void (await Promise.allSettled(children.map(stop))) };
    },
  };
}

export const hubSocketUrl = (port: number, token: string): string => `ws://127.0.0.1:${port}/v1/live?token=${encodeURIComponent(token)}`;
export const bareSocketUrl = (port: number): string => `ws://127.0.0.1:${port}/`;
