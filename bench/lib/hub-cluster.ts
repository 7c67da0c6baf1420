import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { freePort } from "../../src/net/free-port.ts";
import { deleteKeysAt } from "../../test/helpers/delete-keys.ts";
import { hubNodeArgs } from "./hub-node-args.ts";
import { sleep } from "./pacing.ts";

export interface HubClusterOptions {
  redisUrl: string;
  /** API keys, as KEFU_API_KEYS (`key=admin,…`). */
  apiKeys: string;
  /** 0: `kefu-hub start` delivers in process; more: an API-only hub and that many `kefu-hub worker`s. @defaultValue 0 */
  workers?: number;
  /** More KEFU_* settings; KEFU_* of the bench's own environment win over them, for experiments. @defaultValue {} */
  env?: Record<string, string>;
  /** Node.js flags of `kefu-hub start` only, after those of `npm start`. @defaultValue [] */
  hubNodeArgs?: string[];
}

export interface HubCluster {
  url: string;
  /** The hub's pid first, then the workers'. */
  pids: number[];
  /** Stops every process (SIGTERM, SIGKILL after 15 s), then deletes the cluster's Redis keys. Idempotent. */
  stop(): Promise<void>;
}

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

/**
 * `kefu-hub start` (plus `kefu-hub worker`s) as child processes with the flags `npm start` uses,
 * under a Redis prefix of their own, returned once `/readyz` answers 200. A start that fails
 * stops what it started.
 */
export async function startHubCluster({ redisUrl, apiKeys, workers = 0, env = {}, hubNodeArgs: hubOnly = [] }: HubClusterOptions): Promise<HubCluster> {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const port = await freePort();
  const fullEnv = {
    PATH: process.env["PATH"] ?? "",
    PORT: String(port),
    HOST: "127.0.0.1",
    REDIS_URL: redisUrl,
    KEFU_REDIS_PREFIX: prefix,
    KEFU_API_KEYS: apiKeys,
    KEFU_DELIVERY_ALLOW_CIDRS: "127.0.0.0/8",
    KEFU_LOG_LEVEL: "warn",
    KEFU_LOG_FORMAT: "json",
    KEFU_PLUGIN_WATCH: "false",
    // The demo business system is a process of its own that nothing here calls.
    KEFU_DEMO_BUSINESS_SYSTEM: "false",
    KEFU_DELIVERY_WORKERS: workers > 0 ? "false" : "true",
    ...env,
    ...Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[0].startsWith("KEFU_") && entry[1] !== undefined)),
  };
  const launch = (command: string, extra: string[] = []): ChildProcess => {
    const child = spawn(process.execPath, [...hubNodeArgs(), ...extra, CLI, command], { env: fullEnv, stdio: ["ignore", "inherit", "pipe"] });
    forwardStderr(child);
    return child;
  };
  const children = [launch("start", hubOnly), ...Array.from({ length: workers }, () => launch("worker"))];
  // Should the bench exit without stopping them (an uncaught error, a signal), they go with it.
  const killAll = (): void => children.forEach((child) => child.kill("SIGKILL"));
  process.once("exit", killAll);
  let stopping: Promise<void> | undefined;
  const cluster: HubCluster = {
    url: `http://127.0.0.1:${port}`,
    pids: children.map((child) => child.pid ?? NaN),
    stop() {
      stopping ??= (async () => {
        await Promise.allSettled(children.map(stopChild));
        process.removeListener("exit", killAll);
        await deleteKeysAt(redisUrl, prefix);
      })();
      return stopping;
    },
  };
  try {
    await waitForReady(cluster.url, children);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

async function waitForReady(url: string, children: readonly ChildProcess[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (children.some((child) => child.exitCode !== null)) throw new Error("a hub process exited while starting");
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("the hub did not get ready within 30 s");
    await sleep(100);
  }
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await Promise.race([exited, sleep(15_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

/** The child's stderr on ours, less the inspector's notices (one per attached session with `--inspect`). */
function forwardStderr(child: ChildProcess): void {
  let partial = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) if (!INSPECTOR_NOTICE.test(line)) process.stderr.write(`${line}\n`);
  });
}

const INSPECTOR_NOTICE = /^(Debugger (listening on|attached|ending on|ended)|For help, see|Waiting for the debugger to disconnect)/;
