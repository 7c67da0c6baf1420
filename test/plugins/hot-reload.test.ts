import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer, type ServerResponse, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { expectProblem } from "../helpers/problem.ts";
import { captureLogs, eventually, startTestHub, type TestHub } from "../helpers/test-hub.ts";
import { VALID_ORDER, writePlugins } from "./fixture-plugins.ts";

let hub: TestHub;
let upstream: Server;
let plugins: { dir: string; remove(): void };
const held: ServerResponse[] = [];
const { logger, lines } = captureLogs();

const manifest = (version: string): string =>
  JSON.stringify({
    name: "r-orders",
    version,
    kind: "orders",
    entry: "index.js",
    capabilities: { http: { allow: ["${config.baseUrl}"] } },
    config: { type: "object", properties: { baseUrl: { type: "string" } } },
  });
const entry = (tag: string): string => `
export async function getOrder({ orderId }) {
  if (orderId === "slow") await (await kefu.http.fetch(kefu.config.baseUrl + "/slow")).text();
  return { ...${JSON.stringify(VALID_ORDER)}, id: "${tag}-" + orderId };
}`;

before(async () => {
  upstream = createServer((_req, res) => void held.push(res));
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  plugins = writePlugins({
    "r-orders": { raw: { "plugin.json": manifest("1.0.0"), "index.js": entry("v1") } },
    "r-disabled": { raw: { "plugin.json": manifest("1.0.0").replace("r-orders", "r-disabled"), "index.js": entry("off") } },
  });
  hub = await startTestHub({ pluginsDir: plugins.dir, pluginWatch: true, plugins: { "r-orders": { config: { baseUrl } }, "r-disabled": { enabled: false } } }, {}, { logger });
});
after(async () => {
  await hub.close();
  upstream.closeAllConnections();
  upstream.close();
  plugins.remove();
});

const getOrder = async (orderId: string): Promise<string> =>
  ((await hub.hub.plugins.call("orders", "getOrder", { orderId })) as { id: string }).id;
const write = (file: string, text: string): void => writeFileSync(join(plugins.dir, "r-orders", file), text);

test("a change is picked up within 2 s and swapped atomically: the call in flight finishes on the old version", async () => {
  assert.equal(await getOrder("a"), "v1-a");
  const inFlight = getOrder("slow");
  await eventually(() => held.length === 1, 2000, "the slow call to reach the upstream");
  const changedAt = Date.now();
  write("index.js", entry("v2"));
  write("plugin.json", manifest("2.0.0"));
  await eventually(() => hub.hub.plugins.info("r-orders").version === "2.0.0", 2000, "version 2.0.0 to load");
  assert.ok(Date.now() - changedAt < 2000);
  assert.equal(await getOrder("b"), "v2-b");
  held.shift()?.end("done");
  assert.equal(await inFlight, "v1-slow");
  const metrics = await (await hub.request("/metrics", { scope: "none" })).text();
  assert.match(metrics, /kefu_plugin_restarts_total\{plugin="r-orders",reason="reload"\} 1/);
});

const ERROR = 50;

test("a new version that fails to load leaves the old one serving and says why", async () => {
  const errorsBefore = lines.filter((line) => line["level"] === ERROR).length;
  write("index.js", "export async function getOrder( {");
  await eventually(() => /syntax error/.test(hub.hub.plugins.info("r-orders").lastError?.message ?? ""), 2000, "the failed reload to be reported");
  // Logged once, with the reason, by the loader; the watcher adds no second line for the same failure.
  const errors = lines.filter((line) => line["level"] === ERROR).slice(errorsBefore);
  assert.deepEqual(errors.map((line) => [line["plugin"], line["msg"]]), [["r-orders", "plugin reload failed; the previous version keeps serving"]]);
  assert.match(String(errors[0]?.["reason"]), /syntax error/);
  const info = hub.hub.plugins.info("r-orders");
  assert.equal(info.state, "ready");
  assert.equal(info.version, "2.0.0");
  assert.equal(await getOrder("c"), "v2-c");
  const problem = await expectProblem(await hub.request("/v1/plugins/r-orders/reload", { method: "POST" }), 422, "unprocessable");
  assert.match(problem.detail, /syntax error: index\.js:1:\d+.*the previous version keeps serving/);
});

test("POST /v1/plugins/{name}/reload loads the fixed version; an unknown plugin is 404", async () => {
  write("index.js", entry("v3"));
  const response = await hub.request("/v1/plugins/r-orders/reload", { method: "POST" });
  assert.equal(response.status, 200);
  assert.equal(((await response.json()) as { state: string }).state, "ready");
  assert.equal(await getOrder("d"), "v3-d");
  await expectProblem(await hub.request("/v1/plugins/nope/reload", { method: "POST" }), 404, "not_found");
});

test("a changed folder of a disabled plugin is not reloaded, and that is no error", async () => {
  const errorsBefore = lines.filter((line) => line["level"] === ERROR).length;
  writeFileSync(join(plugins.dir, "r-disabled", "index.js"), entry("still-off"));
  await eventually(() => lines.some((line) => line["plugin"] === "r-disabled" && /not a plugin this hub loads/.test(String(line["msg"]))), 2000, "the change to be looked at");
  assert.equal(lines.filter((line) => line["level"] === ERROR).length, errorsBefore);
  assert.equal(hub.hub.plugins.list().some((info) => info.name === "r-disabled"), false);
});
