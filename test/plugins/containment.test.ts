import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { isHubError } from "../../src/http/errors.ts";
import { expectProblem } from "../helpers/problem.ts";
import { eventually, startTestHub, type TestHub } from "../helpers/test-hub.ts";
import { HOSTILE, PROBE, VALID_ORDER, writePlugins } from "./fixture-plugins.ts";

let hub: TestHub;
let upstream: Server;
let upstreamUrl: string;
let plugins: { dir: string; remove(): void };

before(async () => {
  upstream = createServer((req, res) => {
    if (req.url === "/redirect") return void res.writeHead(302, { location: "http://127.0.0.1:9/elsewhere" }).end();
    if (req.url === "/big") return void res.writeHead(200).end(Buffer.alloc(2 * 1024 * 1024, 120));
    res.writeHead(200, { "content-type": "text/plain" }).end("fine");
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  plugins = writePlugins({
    "f-hostile": HOSTILE,
    "f-probe": PROBE,
    "f-bad-manifest": { manifest: { version: "1.0.0", kind: "weather", entry: "index.js" }, files: { "index.js": "export const x = 1;" } },
    "f-syntax": { manifest: { version: "1.0.0", kind: "payments", entry: "index.js" }, files: { "index.js": "export async function getPayments( {" } },
    "f-missing-method": { manifest: { version: "1.0.0", kind: "logistics", entry: "index.js" }, files: { "index.js": "export async function trak() { return null; }" } },
    "not-a-plugin": { raw: { "README.md": "no plugin.json here" } },
  });
  hub = await startTestHub(
    { pluginsDir: plugins.dir, pluginWatch: false, plugins: { "f-hostile": { config: { baseUrl: upstreamUrl } }, "f-probe": { secrets: { API_TOKEN: "from-config" } } } },
  );
});
after(async () => {
  await hub.close();
  upstream.closeAllConnections();
  upstream.close();
  plugins.remove();
});

const order = (orderId: string): Promise<unknown> => hub.hub.plugins.call("orders", "getOrder", { orderId });

async function rejectsWith(promise: Promise<unknown>, code: string, pattern?: RegExp): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isHubError(error), `expected a HubError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return { message: error.message, ...error.options };
  }
  assert.fail(`expected ${code}, but the call succeeded`);
}

test("a bad manifest, a syntax error or a missing method marks that plugin failed with the reason; the others load", async () => {
  const byName = new Map(hub.hub.plugins.list().map((info) => [info.name, info]));
  assert.equal(byName.get("f-hostile")?.state, "ready");
  assert.equal(byName.get("f-probe")?.state, "ready");
  assert.equal(byName.get("f-bad-manifest")?.state, "failed");
  assert.match(byName.get("f-bad-manifest")?.lastError?.message ?? "", /plugin\.json is invalid: \/kind must be one of/);
  assert.equal(byName.get("f-syntax")?.state, "failed");
  assert.match(byName.get("f-syntax")?.lastError?.message ?? "", /syntax error: index\.js:1:\d+/);
  assert.equal(byName.get("f-missing-method")?.state, "failed");
  assert.match(byName.get("f-missing-method")?.lastError?.message ?? "", /must export track\(\)/);
  assert.equal(byName.has("not-a-plugin"), false);
  await expectProblem(await hub.request("/v1/plugins/f-syntax/invoke", { method: "POST", json: { method: "getPayments", input: {} } }), 503, "plugin_unavailable");
  assert.equal(hub.hub.plugins.pluginFor("orders"), "f-hostile");
});

test("a plugin that throws → plugin_error naming plugin, method and message, without a stack", async () => {
  const error = await rejectsWith(order("throw"), "plugin_error", /^plugin f-hostile getOrder\(\) failed: TypeError: card declined$/);
  assert.deepEqual((error["extensions"] as Record<string, unknown>)["pluginError"], { name: "TypeError", message: "card declined" });
  const problem = await expectProblem(await hub.request("/v1/plugins/f-hostile/invoke", { method: "POST", json: { method: "getOrder", input: { orderId: "throw" } } }), 502, "plugin_error");
  assert.equal(problem["method"], "getOrder");
});

test("an endless loop is stopped at its deadline and the next call works", async () => {
  const started = Date.now();
  await rejectsWith(order("loop"), "plugin_timeout", /did not answer within 400 ms/);
  assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
  assert.deepEqual(await order("SO-after-loop"), { ...VALID_ORDER, id: "SO-after-loop" });
});

test("a plugin that ran past its deadline on the runner's thread runs on a thread of its own: its next loops hold up no other plugin", async () => {
  await rejectsWith(order("loop"), "plugin_timeout");
  for (const orderId of ["loop", "loop-after-await"]) {
    const before = hub.hub.plugins.info("f-hostile").restarts;
    const looping = rejectsWith(order(orderId), "plugin_timeout", /within 400 ms/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    const probe = (await hub.hub.plugins.call("crm", "getCustomer", { customerId: "C-3" })) as { id: string };
    assert.equal(probe.id, "C-3");
    assert.ok(performance.now() - started < 150, `another plugin waited ${Math.round(performance.now() - started)} ms for a looping one`);
    await looping;
    await eventually(() => hub.hub.plugins.info("f-hostile").restarts > before, 5000, "the stuck isolate to be replaced");
  }
  assert.deepEqual(await order("SO-after-threaded-loops"), { ...VALID_ORDER, id: "SO-after-threaded-loops" });
});

test("a loop after an await is stopped at its deadline, its isolate is replaced, and the next call works", async () => {
  await hub.hub.plugins.reload("f-hostile"); // a new version runs on the runner's thread again
  const before = hub.hub.plugins.info("f-hostile").restarts;
  await rejectsWith(order("loop-after-await"), "plugin_timeout");
  await eventually(() => hub.hub.plugins.info("f-hostile").restarts > before, 5000, "the stuck isolate to be replaced");
  assert.deepEqual(await order("SO-after-stuck"), { ...VALID_ORDER, id: "SO-after-stuck" });
  const metrics = await (await hub.request("/metrics", { scope: "none" })).text();
  assert.match(metrics, /kefu_plugin_restarts_total\{plugin="f-hostile",reason="timeout"\} [1-9]/);
});

test("awaiting a promise that never settles is stopped at the deadline; a shorter caller deadline wins", async () => {
  await rejectsWith(order("hang"), "plugin_timeout");
  const started = Date.now();
  await rejectsWith(hub.hub.plugins.call("orders", "getOrder", { orderId: "hang" }, { timeoutMs: 50 }), "plugin_timeout", /within 50 ms/);
  assert.ok(Date.now() - started < 400);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 30);
  await rejectsWith(hub.hub.plugins.call("orders", "getOrder", { orderId: "hang" }, { signal: controller.signal }), "plugin_timeout", /caller gave up/);
});

test("unbounded allocation replaces the isolate; other plugins keep answering and the API keeps serving", async () => {
  const oom = rejectsWith(order("oom"), "plugin_error", /exceeded its memory limit of 16 MB/);
  const health = await hub.request("/healthz", { scope: "none" });
  assert.equal(health.status, 200);
  const probe = (await hub.hub.plugins.call("crm", "getCustomer", { customerId: "C-1" })) as { id: string };
  assert.equal(probe.id, "C-1");
  await oom;
  await eventually(async () => (await order("SO-after-oom").catch(() => undefined)) !== undefined, 5000, "f-hostile to answer again");
  const metrics = await (await hub.request("/metrics", { scope: "none" })).text();
  assert.match(metrics, /kefu_plugin_restarts_total\{plugin="f-hostile",reason="memory"\} 1/);
});

test("data that violates the kind's schema → plugin_output_invalid with the ajv errors; undefined is refused too", async () => {
  const error = await rejectsWith(order("invalid"), "plugin_output_invalid", /violates schemas\/plugins\/orders\.schema\.json/);
  const pointers = (error["errors"] as { pointer: string }[]).map((e) => e.pointer);
  assert.ok(pointers.includes("/id") && pointers.includes("/status") && pointers.includes("/amount"), pointers.join(","));
  await rejectsWith(order("undefined"), "plugin_output_invalid", /return null/);
  const problem = await expectProblem(await hub.request("/v1/plugins/f-hostile/invoke", { method: "POST", json: { method: "getOrder", input: { orderId: "invalid" } } }), 502, "plugin_output_invalid");
  assert.ok((problem.errors ?? []).length >= 3);
  assert.equal(await order("missing"), null);
});

test("fetching an origin the manifest did not declare is refused; redirects are not followed; bodies over 1 MB are refused", async () => {
  await rejectsWith(order("undeclared"), "plugin_error", /http:\/\/127\.0\.0\.1:9 is not in this plugin's capabilities\.http\.allow/);
  assert.equal(((await order("redirect")) as { id: string }).id, "302 http://127.0.0.1:9/elsewhere");
  await rejectsWith(order("big"), "plugin_error", /larger than 1 MB/);
});

test("escape attempts find nothing: no process, require, timers or isolated-vm objects; only declared secrets", async () => {
  const { tags } = (await hub.hub.plugins.call("crm", "getCustomer", { customerId: "C-2" })) as { tags: string[] };
  assert.deepEqual(tags, [
    "constructor-escape:threw ReferenceError",
    "function-escape:threw ReferenceError",
    "global-constructor-escape:threw ReferenceError",
    "object-constructor-escape:undefined",
    "require:threw ReferenceError",
    "globalThis.process:undefined",
    "setTimeout:threw ReferenceError",
    "ivm:undefined",
    "secrets:API_TOKEN",
    "token:from-config",
    "globals:",
  ]);
});

test("GET /healthz answers while a plugin loops", async () => {
  const looping = hub.request("/v1/plugins/f-hostile/invoke", { method: "POST", json: { method: "getOrder", input: { orderId: "loop" } } });
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const health = await hub.request("/healthz", { scope: "none" });
    assert.equal(health.status, 200);
    assert.ok(performance.now() - started < 200);
  }
  await expectProblem(await looping, 504, "plugin_timeout");
});

test("a crashed runner fails the calls in flight clearly, restarts, and the plugins answer again", async () => {
  const pid = hub.hub.plugins.runnerPid;
  assert.ok(pid);
  const inFlight = rejectsWith(order("hang"), "plugin_unavailable", /plugin runner died/);
  await new Promise((resolve) => setTimeout(resolve, 50));
  process.kill(pid, "SIGKILL");
  await inFlight;
  await eventually(async () => (await order("SO-after-crash").catch(() => undefined)) !== undefined, 8000, "plugins to answer after the runner restart");
  assert.notEqual(hub.hub.plugins.runnerPid, pid);
  const metrics = await (await hub.request("/metrics", { scope: "none" })).text();
  assert.match(metrics, /kefu_plugin_restarts_total\{plugin="f-probe",reason="runner_crash"\} 1/);
});
