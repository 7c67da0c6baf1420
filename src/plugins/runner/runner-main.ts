/**
 * The plugin runner: a child process of the API process that owns every isolate. isolated-vm
 * warns that an isolate running out of memory can abort its whole process; here that costs a
 * runner restart, never the API. Started by runner-client.ts with `--no-node-snapshot`.
 */
import { Agent } from "undici";
import { createCache, LOG_LEVELS, type RunnerServices } from "./host-capabilities.ts";
import { RunnerCallError } from "./pending-calls.ts";
import { PluginSandbox } from "./plugin-sandbox.ts";
import { batchingSender, type FromRunner, type RunnerInit, type ToRunner } from "./protocol.ts";

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

async function handle(message: ToRunner): Promise<string> {
  switch (message.t) {
    case "load": {
      const { spec } = message;
      const sandbox = await PluginSandbox.create(spec, services, (reason) => send({ t: "restarted", plugin: spec.plugin, instance: spec.instance, reason }));
      sandboxes.get(spec.instance)?.dispose();
      sandboxes.set(spec.instance, sandbox);
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
  }
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
