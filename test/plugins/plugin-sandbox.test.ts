import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Agent } from "undici";
import { createCache, type RunnerServices } from "../../src/plugins/runner/host-capabilities.ts";
import { PluginSandbox } from "../../src/plugins/runner/plugin-sandbox.ts";
import type { LoadSpec } from "../../src/plugins/runner/protocol.ts";

// The sandbox on its own, with a real isolate: what the hub-level tests cannot arrange, such as
// more calls in one turn of the event loop than one entry into the isolate takes.

let services: RunnerServices;
let sandbox: PluginSandbox;

const spec: LoadSpec = {
  instance: "sandbox-test-1",
  plugin: "sandbox-test",
  code: `globalThis.__kefuExports = {
    async echo({ n }) { return { n }; },
    async later({ n }) { await kefu.cache.get("k" + n); return { n }; },
  };`,
  memoryMb: 16,
  timeoutMs: 5000,
  allow: [],
  cache: true,
  config: {},
  secrets: {},
};

before(async () => {
  services = { agent: new Agent(), cache: createCache({ kind: "memory" }), send: () => {}, logLevel: 30 };
  sandbox = await PluginSandbox.create(spec, services, () => {});
});
after(async () => {
  sandbox.dispose();
  await services.agent.close();
});

test("calls started in one turn beyond one entry's size all answer, each with its own result", async () => {
  const numbers = Array.from({ length: 2500 }, (_, n) => n);
  const outcomes = await Promise.all(numbers.map((n) => sandbox.call("echo", JSON.stringify({ n }), 5000)));
  assert.deepEqual(outcomes, numbers.map((n) => `o{"n":${n}}`));
});

test("answers of host operations arriving in one turn reach the calls that asked for them", async () => {
  const numbers = Array.from({ length: 2500 }, (_, n) => n);
  const outcomes = await Promise.all(numbers.map((n) => sandbox.call("later", JSON.stringify({ n }), 5000)));
  assert.deepEqual(outcomes, numbers.map((n) => `o{"n":${n}}`));
});
