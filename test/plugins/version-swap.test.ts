import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { createPluginMetrics } from "../../src/plugins/plugin-metrics.ts";
import { PluginRecords, type PluginVersion } from "../../src/plugins/plugin-record.ts";
import { RunnerReplyError } from "../../src/plugins/runner-client.ts";
import { VersionSwap } from "../../src/plugins/version-swap.ts";
import { captureLogs, eventually } from "../helpers/test-hub.ts";

const version = (instance: string): PluginVersion => ({
  instance, spec: {} as PluginVersion["spec"], inFlight: 0, retired: false, loadedAt: "",
  manifest: { name: "p", version: "1.0.0", kind: "orders", entry: "index.js", capabilities: {}, limits: { memoryMb: 16, timeoutMs: 100 } },
});

// The runner's side is a stand-in that fails each unload the way the real RunnerClient does
// (a timeout while the runner is up; "unavailable" once it is gone).
test("a failed unload of a replaced version is logged: a warning while the runner is up, debug once it is gone", async () => {
  const { logger, lines } = captureLogs();
  const failures = [new RunnerReplyError({ kind: "timeout", message: "the plugin runner did not answer within 5000 ms" }), new RunnerReplyError({ kind: "unavailable", message: "the plugin runner is not running" })];
  const runner = { request: () => Promise.reject(failures.shift() ?? new Error("no more")) };
  const swap = new VersionSwap({ runner, logger, restarts: createPluginMetrics(new Registry()).restarts });
  const record = new PluginRecords().ensure("p", "/plugins/p");
  swap.swapIn(record, version("p@1"));
  const inFlight = record.active as PluginVersion;
  swap.enter(inFlight);
  swap.swapIn(record, version("p@2"));
  assert.equal(lines.length, 0, "a version with a call in flight is not unloaded yet");
  swap.leave("p", inFlight);
  await eventually(() => lines.find((line) => line["instance"] === "p@1"), 1000, "the failed unload to be logged");
  assert.deepEqual([lines[0]?.["level"], lines[0]?.["plugin"]], [40, "p"]);
  assert.match(String(lines[0]?.["msg"]), /could not unload a replaced plugin version; its isolate keeps its memory/);
  swap.swapIn(record, version("p@3"));
  await eventually(() => lines.find((line) => line["instance"] === "p@2"), 1000, "the second failed unload to be logged");
  assert.equal(lines[1]?.["level"], 20);
});
