import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startDemoBusinessSystem, type DemoBusinessSystem } from "../../plugins/demo-business-system/server.ts";
import { scaffoldPlugin } from "../../src/cli/plugin-new.ts";
import type { HubConfig } from "../../src/config/config.ts";
import { isHubError } from "../../src/http/errors.ts";
import type { KindBinding } from "../../src/plugins/plugin-caller.ts";
import { hubPaths } from "../../src/paths.ts";
import { expectProblem } from "../helpers/problem.ts";
import { DEMO_PLUGINS } from "../helpers/test-hub-with-demo.ts";
import { captureLogs, startTestHub, type TestHub } from "../helpers/test-hub.ts";
import { writePlugin } from "./fixture-plugins.ts";

// docs/plugins.md's quick start next to the demo plugins: `plugin new shop-orders --kind orders`
// (and a CRM of one's own, my-crm) in a plugins folder that also holds the four demo plugins.
const root = hubPaths().root;
let demo: DemoBusinessSystem;
let dir: string;

before(async () => {
  demo = await startDemoBusinessSystem({ port: 0 });
  dir = mkdtempSync(join(tmpdir(), "kefu-kinds-"));
  for (const name of DEMO_PLUGINS) cpSync(join(root, "plugins", name), join(dir, name), { recursive: true });
  scaffoldPlugin({ name: "shop-orders", kind: "orders", dir, hubRoot: root });
  scaffoldPlugin({ name: "my-crm", kind: "crm", dir, hubRoot: root });
});
after(async () => {
  await demo.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A hub on that folder; the scaffolded plugins talk to the demo business system too (it answers in kefu-hub's shapes). */
async function startHub(env: Record<string, string> = {}): Promise<{ hub: TestHub; lines: Record<string, unknown>[] }> {
  const plugins: HubConfig["plugins"] = {};
  for (const name of [...DEMO_PLUGINS, "shop-orders", "my-crm"]) plugins[name] = { config: { baseUrl: demo.url } };
  const { logger, lines } = captureLogs("info");
  const hub = await startTestHub({ pluginsDir: dir, pluginWatch: false, plugins }, env, { logger });
  return { hub, lines };
}

const WARN = 40;
const warnings = (lines: Record<string, unknown>[], kind: string): Record<string, unknown>[] => lines.filter((line) => line["level"] === WARN && line["kind"] === kind);

async function kinds(hub: TestHub): Promise<Record<string, KindBinding>> {
  const response = await hub.request("/v1/plugins");
  assert.equal(response.status, 200);
  return ((await response.json()) as { kinds: Record<string, KindBinding> }).kinds;
}

async function readiness(hub: TestHub): Promise<Record<string, string>> {
  const response = await hub.request("/readyz", { scope: "none" });
  const body = await response.text();
  assert.equal(response.status, 200, body);
  const parsed = JSON.parse(body) as { status: string; checks: Record<string, string> };
  assert.equal(parsed.status, "ready");
  return parsed.checks;
}

const VIP_RULESET = {
  name: "vip",
  default: { businessLine: "general", queue: "general", agentGroup: "front-desk", priority: "normal", tags: [], slaMinutes: 480 },
  rules: [{
    name: "platinum",
    priority: 10,
    conditions: { all: [{ fact: "customer.tier", operator: "equal", value: "platinum" }] },
    event: { type: "route", params: { businessLine: "key-accounts", queue: "vip", agentGroup: "vip", priority: "high", slaMinutes: 60 } },
  }],
};

describe("two plugins of a kind and no KEFU_PLUGIN_KINDS", () => {
  let hub: TestHub;
  let lines: Record<string, unknown>[];
  before(async () => ({ hub, lines } = await startHub()));
  after(() => hub.close());

  test("GET /v1/plugins shows both ready, which plugins compete for which kind, and who serves the rest", async () => {
    const response = await hub.request("/v1/plugins");
    const body = (await response.json()) as { items: { name: string; state: string }[]; kinds: Record<string, KindBinding> };
    assert.equal(body.items.find((item) => item.name === "shop-orders")?.state, "ready");
    assert.equal(body.items.find((item) => item.name === "demo-orders")?.state, "ready");
    const { orders, crm, payments, transform } = body.kinds;
    assert.deepEqual([orders?.state, orders?.plugin, orders?.candidates, orders?.configured], ["ambiguous", null, ["demo-orders", "shop-orders"], null]);
    assert.match(orders?.detail ?? "", /several orders plugins are loaded \(demo-orders, shop-orders\).*KEFU_PLUGIN_KINDS=orders=<one of them>/);
    assert.deepEqual([crm?.state, crm?.candidates], ["ambiguous", ["demo-crm", "my-crm"]]);
    assert.deepEqual([payments?.state, payments?.plugin, payments?.detail], ["served", "demo-payments", null]);
    assert.deepEqual([transform?.state, transform?.plugin], ["none", null]);
  });

  test("the start-up log warns once per ambiguous kind, naming KEFU_PLUGIN_KINDS", () => {
    for (const kind of ["orders", "crm"]) {
      const found = warnings(lines, kind);
      assert.equal(found.length, 1, `${kind}: ${JSON.stringify(found)}`);
      assert.match(String(found[0]?.["msg"]), /KEFU_PLUGIN_KINDS/);
    }
    assert.deepEqual(warnings(lines, "payments"), []);
  });

  test("/readyz stays ready, with the plugins check saying which kinds are ambiguous", async () => {
    const checks = await readiness(hub);
    assert.match(checks["plugins"] ?? "", /^degraded: orders: several orders plugins .*; crm: several crm plugins .*KEFU_PLUGIN_KINDS/);
    assert.equal(checks["redis"], "ok");
  });

  test("the order part degrades as plugin_ambiguous, not plugin_unavailable", async () => {
    const response = await hub.request("/v1/orders/SO-100003/context?parts=order", { scope: "read" });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { order: unknown; degraded: unknown[] };
    assert.equal(body.order, null);
    assert.deepEqual(body.degraded, [{ part: "order", reason: "plugin_ambiguous" }]);
  });

  test("a customer answers problem+json plugin_ambiguous naming the competing CRM plugins", async () => {
    const problem = await expectProblem(await hub.request("/v1/customers/C-0001", { scope: "read" }), 503, "plugin_ambiguous");
    assert.match(problem.detail, /demo-crm, my-crm/);
    assert.match(problem.detail, /KEFU_PLUGIN_KINDS/);
    assert.doesNotMatch(problem.detail, /none loaded/);
  });

  test("a routing decision is degraded, and the dry-run trace says why", async () => {
    const response = await hub.request("/v1/routing/decide", { method: "POST", scope: "read", json: { ruleset: VIP_RULESET, event: { type: "ticket.created", data: { subject: "hi", customer: { id: "C-0001" } } } } });
    assert.equal(response.status, 200);
    const { decision, trace } = (await response.json()) as { decision: { degraded: boolean }; trace: { unavailableFacts: string[]; unavailableReasons: Record<string, { code: string; detail: string }> } };
    assert.equal(decision.degraded, true);
    assert.deepEqual(trace.unavailableFacts, ["customer.tier"]);
    assert.equal(trace.unavailableReasons["customer.tier"]?.code, "plugin_ambiguous");
  });

  test("the PluginCaller rejects plugin_ambiguous; invoking a named plugin still works", async () => {
    await assert.rejects(hub.hub.plugins.call("orders", "getOrder", { orderId: "SO-100003" }), (error) => isHubError(error) && error.code === "plugin_ambiguous");
    const response = await hub.request("/v1/plugins/shop-orders/invoke", { method: "POST", json: { method: "getOrder", input: { orderId: "SO-100003" } } });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { result: { id: string } }).result.id, "SO-100003");
  });

  test("a plugin that makes another kind ambiguous later is warned about when it loads", async () => {
    writePlugin(dir, "late-payments", { manifest: { version: "1.0.0", kind: "payments", entry: "index.js" }, files: { "index.js": "export async function getPayments() { return null; }" } });
    try {
      const before = warnings(lines, "payments").length;
      assert.equal((await hub.request("/v1/plugins/late-payments/reload", { method: "POST" })).status, 200);
      assert.equal((await kinds(hub))["payments"]?.state, "ambiguous");
      assert.equal(warnings(lines, "payments").length, before + 1);
      assert.equal(warnings(lines, "orders").length, 1, "a kind whose state did not change is not warned about again");
      assert.match((await readiness(hub))["plugins"] ?? "", /payments: several payments plugins are loaded \(demo-payments, late-payments\)/);
    } finally {
      rmSync(join(dir, "late-payments"), { recursive: true, force: true });
    }
  });
});

describe("KEFU_PLUGIN_KINDS picks the plugin", () => {
  let hub: TestHub;
  let lines: Record<string, unknown>[];
  before(async () => ({ hub, lines } = await startHub({ KEFU_PLUGIN_KINDS: "orders=shop-orders,crm=demo-crm" })));
  after(() => hub.close());

  test("GET /v1/plugins shows which plugin serves each kind, and that the binding chose it", async () => {
    const { orders, crm } = await kinds(hub);
    assert.deepEqual([orders?.state, orders?.plugin, orders?.configured, orders?.candidates], ["served", "shop-orders", "shop-orders", ["demo-orders", "shop-orders"]]);
    assert.deepEqual([crm?.state, crm?.plugin, crm?.configured], ["served", "demo-crm", "demo-crm"]);
  });

  test("calls go to the chosen plugins; /readyz says ok and the log warns of nothing", async () => {
    const context = await hub.request("/v1/orders/SO-100003/context?parts=order", { scope: "read" });
    const body = (await context.json()) as { order: { id: string }; degraded: unknown[]; sources: { order: { plugin: string } } };
    assert.deepEqual([body.order.id, body.degraded, body.sources.order.plugin], ["SO-100003", [], "shop-orders"]);
    assert.equal((await hub.request("/v1/customers/C-0001", { scope: "read" })).status, 200);
    assert.equal((await readiness(hub))["plugins"], "ok");
    assert.deepEqual(lines.filter((line) => line["level"] === WARN && line["kind"]), []);
  });
});

describe("KEFU_PLUGIN_KINDS names a plugin that is not loaded", () => {
  let hub: TestHub;
  let lines: Record<string, unknown>[];
  before(async () => ({ hub, lines } = await startHub({ KEFU_PLUGIN_KINDS: "orders=shop-ordrs" })));
  after(() => hub.close());

  test("the kind is unavailable everywhere, with the binding named as the cause", async () => {
    const { orders } = await kinds(hub);
    assert.deepEqual([orders?.state, orders?.configured], ["unavailable", "shop-ordrs"]);
    assert.match(orders?.detail ?? "", /KEFU_PLUGIN_KINDS names shop-ordrs for orders, but no plugin named shop-ordrs is loaded; loaded orders plugins: demo-orders, shop-orders/);
    assert.match(String(warnings(lines, "orders")[0]?.["msg"]), /KEFU_PLUGIN_KINDS names shop-ordrs/);
    assert.match((await readiness(hub))["plugins"] ?? "", /^degraded: orders: KEFU_PLUGIN_KINDS names shop-ordrs/);
    const context = (await (await hub.request("/v1/orders/SO-100003/context?parts=order", { scope: "read" })).json()) as { degraded: unknown[] };
    assert.deepEqual(context.degraded, [{ part: "order", reason: "plugin_unavailable" }]);
  });
});

test("a binding to a plugin of another kind, or to one that failed to load, says so", async () => {
  const { resolveKind } = await import("../../src/plugins/kind-bindings.ts");
  const { PluginRecords } = await import("../../src/plugins/plugin-record.ts");
  const records = new PluginRecords();
  const crm = records.ensure("my-crm", "/plugins/my-crm");
  const manifest = { name: "my-crm", version: "1.0.0", kind: "crm" as const, entry: "index.js", capabilities: {}, limits: { memoryMb: 16, timeoutMs: 100 } };
  crm.active = { instance: "my-crm@1.0.0#1", spec: {} as never, manifest, inFlight: 0, retired: false, loadedAt: "" };
  const broken = records.ensure("shop-orders", "/plugins/shop-orders");
  broken.state = "failed";
  broken.lastError = { message: "load failed: syntax error", at: "" };
  assert.match(resolveKind("orders", records, "my-crm").detail ?? "", /names my-crm for orders, but my-crm is a crm plugin/);
  assert.match(resolveKind("orders", records, "shop-orders").detail ?? "", /but shop-orders failed to load \(load failed: syntax error\)/);
  assert.equal(resolveKind("crm", records, undefined).plugin, "my-crm");
});
