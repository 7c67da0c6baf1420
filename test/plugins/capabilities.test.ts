import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import { hubPaths } from "../../src/paths.ts";
import { PluginHost } from "../../src/plugins/plugin-host.ts";
import { createSchemaRegistry } from "../../src/schemas/schema-registry.ts";
import { eventually } from "../helpers/test-hub.ts";
import { writePlugins } from "./fixture-plugins.ts";

const lines: Record<string, unknown>[] = [];
let host: PluginHost;
const plugins = writePlugins({
  "c-tools": {
    manifest: { version: "1.0.0", kind: "crm", entry: "index.js", capabilities: { cache: true } },
    files: {
      "index.js": `
export async function getCustomer({ customerId }) {
  if (customerId === "bad-ttl") await kefu.cache.set("k", 1, 0);
  kefu.log.debug("below the level");
  kefu.log.info("looked up", { customerId });
  const seen = (await kefu.cache.get("seen")) ?? [];
  await kefu.cache.set("seen", [...seen, customerId], 60);
  return { id: customerId, name: "N", tier: "regular", riskLevel: "low", tags: seen, contacts: [] };
}`,
    },
  },
  "c-nocache": {
    manifest: { version: "1.0.0", kind: "transform", entry: "index.js" },
    files: { "index.js": `export async function inbound({ source, body }) { if (body.cache) await kefu.cache.get("x"); return { events: [{ type: "ticket.created", source, data: body }] }; }` },
  },
});

before(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  host = new PluginHost({
    dir: plugins.dir,
    schemas: createSchemaRegistry(hubPaths().schemas),
    logger: pino({ level: "info" }, sink),
    registry: new Registry(),
    runner: { cache: { kind: "memory" }, logLevel: "info" },
    env: {},
  });
  await host.start();
});
after(async () => {
  await host.close();
  plugins.remove();
});

test("kefu.log reaches the hub's logger tagged with the plugin, below-level lines are dropped; kefu.cache keeps values per plugin", async () => {
  await host.call("crm", "getCustomer", { customerId: "C-1" });
  const second = (await host.call("crm", "getCustomer", { customerId: "C-2" })) as { tags: string[] };
  assert.deepEqual(second.tags, ["C-1"]);
  const line = await eventually(() => lines.find((entry) => entry["msg"] === "looked up"), 2000, "the plugin's log line");
  assert.equal(line["plugin"], "c-tools");
  assert.equal(line["customerId"], "C-1");
  assert.equal(lines.some((entry) => entry["msg"] === "below the level"), false);
});

test("cache misuse is the plugin's error; a plugin without the cache capability cannot use it; transform results are validated", async () => {
  const pid = host.runnerPid;
  await assert.rejects(host.call("crm", "getCustomer", { customerId: "bad-ttl" }), {
    code: "plugin_error",
    message: /getCustomer\(\) failed: Error: kefu\.cache\.set: ttlSeconds must be a whole number from 1 to 86400/,
  });
  assert.equal(host.runnerPid, pid, "a failing host capability must not end the runner");
  await assert.rejects(host.call("transform", "inbound", { source: "helpdesk", headers: {}, body: { cache: true } }), /kefu\.cache needs "capabilities": \{"cache": true\}/);
  assert.deepEqual(await host.call("transform", "inbound", { source: "helpdesk", headers: {}, body: { ticketId: "T-1" } }), {
    events: [{ type: "ticket.created", source: "helpdesk", data: { ticketId: "T-1" } }],
  });
});
