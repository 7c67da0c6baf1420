/**
 * The plugin runner: a child process of the API process that owns every isolate. isolated-vm
 * warns that an isolate running out of memory can abort its whole process; here that costs a
 * runner restart, never the API. Started by runner-client.ts with `--no-node-snapshot`.
 */
import { Agent } from "undici";
import { releaseFreedHeap } from "../../release-freed-heap.ts";
import { createCache, LOG_LEVELS, type RunnerServices } from "./host-capabilities.ts";
import { RunnerCallError } from "./pending-calls.ts";
import { PluginSandbox } from "./plugin-sandbox.ts";
import { batchingSender, type FromRunner, type RunnerInit, type RunnerMemory, type ToRunner } from "./protocol.ts";

const init = JSON.parse(process.argv[2] ?? "{}") as RunnerInit;
const send = batchingSender<FromRunner>((batch) => {
  if (process.connected) process.send?.(batch);
});
const services: RunnerServices = {
  agent: new Agent({ keepAliveTimeout: 10_000, connections: 256 }),
  cache: createCache(init.cache),
  send,
  logLevel: LOG_LEVELS[init.logLevel] ?? LOG_LEVELS["info"] ?? 30,
};
const sandboxes = new Map<string, PluginSandbox>();

/** How long after the last load the runner's freed heap pages go back to the OS. */
const RELEASE_AFTER_LOADS_MS = 1000;
let releaseTimer: NodeJS.Timeout | undefined;
/** Once a batch of loads (start-up, a hot reload) is over: what loading them dropped is no longer held. */
function releaseAfterLoads(): void {
  clearTimeout(releaseTimer);
  releaseTimer = setTimeout(releaseFreedHeap, RELEASE_AFTER_LOADS_MS).unref();
}

async function handle(message: ToRunner): Promise<string> {
  switch (message.t) {
    case "load": {
      const { spec } = message;
      const sandbox = await PluginSandbox.create(spec, services, (reason) => send({ t: "restarted", plugin: spec.plugin, instance: spec.instance, reason }));
      sandboxes.get(spec.instance)?.dispose();
      sandboxes.set(spec.instance, sandbox);
      releaseAfterLoads();
      return (await sandbox.methods()).join(",");
    }
    case "unload":
      sandboxes.get(message.instance)?.dispose();
      sandboxes.delete(message.instance);
      return "";
    case "fake":
      sandboxFor(message.instance).setFakes(message.routes);
      return "";
    case "call":
      return sandboxFor(message.instance).call(message.method, message.input, message.timeoutMs);
    case "memory":
      return JSON.stringify(await memoryOf(sandboxes));
  }
}

/** How long an isolate may take to report its heap: one running a long call cannot until it yields. */
const HEAP_STATS_WAIT_MS = 250;

async function memoryOf(all: ReadonlyMap<string, PluginSandbox>): Promise<RunnerMemory> {
  const usage = process.memoryUsage();
  const isolates = await Promise.all([...all.values()].map(async (sandbox) => {
    const names = { plugin: sandbox.spec.plugin, instance: sandbox.spec.instance };
    const busy = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), HEAP_STATS_WAIT_MS).unref());
    const heap = await Promise.race([sandbox.heapStatistics().catch(() => undefined), busy]);
    return heap ? { ...names, ...heap } : { ...names, busy: true as const };
  }));
  return { pid: process.pid, rssBytes: usage.rss, heapUsedBytes: usage.heapUsed, isolates };
}

function sandboxFor(instance: string): PluginSandbox {
  const sandbox = sandboxes.get(instance);
  if (!sandbox) throw new RunnerCallError("unavailable", `plugin instance ${instance} is not loaded in the runner`);
  return sandbox;
}

process.on("message", (batch: ToRunner[]) => {
  for (const message of batch) answer(message);
});

function answer(message: ToRunner): void {
  handle(message).then(
    (value) => send({ t: "reply", id: message.id, ok: true, value }),
    (error: unknown) => {
      const known = error instanceof RunnerCallError;
      send({
        t: "reply",
        id: message.id,
        ok: false,
        error: {
          kind: known ? error.kind : "unavailable",
          message: (error as Error).message ?? String(error),
          ...(known && error.pluginErrorName ? { name: error.pluginErrorName } : {}),
        },
      });
    },
  );
}

// A stray rejection must not end every plugin's isolate with it: report it and keep serving.
process.on("unhandledRejection", (reason) => {
  process.stderr.write(`kefu-hub plugin runner: unhandled rejection: ${String(reason)}\n`);
});

// Without its parent the runner has no purpose: exit rather than linger as an orphan.
process.on("disconnect", () => {
  for (const sandbox of sandboxes.values()) sandbox.dispose();
  void Promise.allSettled([services.cache.close(), services.agent.close()]).finally(() => process.exit(0));
});

process.send?.([{ t: "ready" }]);
