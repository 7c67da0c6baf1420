import { randomUUID } from "node:crypto";
import { fork, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "../../src/net/free-port.ts";
import { buildDist, DIST } from "../../scripts/build-dist.ts";
import { hubNodeArgs } from "./hub-node-args.ts";
import { deleteKeysAt } from "../../test/helpers/delete-keys.ts";

export { freePort };


export interface ForkOptions {
  /** Added to the bench's own environment. @defaultValue {} */
  env?: Record<string, string>;
  /** Node.js flags of the child. @defaultValue the bench process's own (`process.execArgv`) */
  execArgv?: string[];
}

/** Forks a bench server script that sends "ready" over IPC once listening. */
export async function forkServer(script: URL, port: number, { env = {}, execArgv = process.execArgv }: ForkOptions = {}): Promise<ChildProcess> {
  const child = fork(fileURLToPath(script), [String(port)], { env: { ...process.env, ...env }, execArgv, stdio: ["ignore", "ignore", "inherit", "ipc"] });
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) => reject(new Error(`${script.pathname} exited with ${code}`)));
  });
  return child;
}

export interface BenchHub {
  child: ChildProcess;
  /** Stops the hub, then deletes every Redis key it wrote (its own `bench-…` prefix). */
  stop(): Promise<void>;
}

export interface StartHubOptions {
  /** Redis key prefix; pass one to write keys for the hub before it starts. @defaultValue `bench-<random>` */
  prefix?: string;
  /** How long to wait for `/readyz` (loading many sessions takes a while). @defaultValue 20000 */
  readyTimeoutMs?: number;
  /**
   * Run dist/kefu-hub.js, built first from the sources (what `npm start` and the image run), instead
   * of src/cli/main.ts. BENCH_HUB_FROM_SOURCE=1 turns it off. @defaultValue false
   */
  bundled?: boolean;
}

let built: Promise<void> | undefined;

/**
 * Starts `kefu-hub start` as a child process (its logs discarded, as a log shipper would take
 * them) under a Redis key prefix of its own.
 */
export async function startHub(env: Record<string, string>, port: number, options: StartHubOptions = {}): Promise<BenchHub> {
  const { prefix = `bench-${randomUUID().slice(0, 8)}`, readyTimeoutMs = 20_000 } = options;
  const bundled = options.bundled === true && process.env["BENCH_HUB_FROM_SOURCE"] !== "1";
  if (bundled) await (built ??= buildDist());
  const cli = bundled ? `${DIST}/kefu-hub.js` : fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
  const child = spawn(process.execPath, [...hubNodeArgs(), cli, "start"], {
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", KEFU_LOG_FORMAT: "json", KEFU_REDIS_PREFIX: prefix, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const hub: BenchHub = {
    child,
    async stop() {
      await stop(child);
      await deleteKeysAt(process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379", prefix);
    },
  };
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) return hub;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error("the hub did not become ready");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}
