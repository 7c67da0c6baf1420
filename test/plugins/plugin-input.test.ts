import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isHubError } from "../../src/http/errors.ts";
import { hubPaths } from "../../src/paths.ts";
import { createInputCheck } from "../../src/plugins/plugin-input.ts";
import { createSchemaRegistry } from "../../src/schemas/schema-registry.ts";
import { expectProblem, type ProblemBody } from "../helpers/problem.ts";
import { startTestHubWithDemo, type TestHubWithDemo } from "../helpers/test-hub-with-demo.ts";
import { startTestHub, type TestHub } from "../helpers/test-hub.ts";
import { VALID_ORDER, writePlugins } from "./fixture-plugins.ts";

/** `depth` objects inside each other, as JSON text (JSON.stringify itself would overflow building it). */
const nested = (depth: number): string => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

describe("POST /v1/plugins/{name}/invoke validates the input against the method's schema, before the sandbox", () => {
  let hub: TestHubWithDemo;
  before(async () => {
    hub = await startTestHubWithDemo();
  });
  after(() => hub.close());

  /** Posts a raw body and expects 400 validation_failed with `pointer` first; nothing reached the plugin or its upstream. */
  async function refused(body: string, pointer: string, message: RegExp): Promise<ProblemBody> {
    const before = hub.hub.plugins.info("demo-orders").calls;
    hub.demo.resetCounts();
    const response = await hub.request("/v1/plugins/demo-orders/invoke", { method: "POST", body, headers: { "content-type": "application/json" } });
    const problem = await expectProblem(response, 400, "validation_failed");
    assert.equal(problem.errors?.[0]?.pointer, pointer, JSON.stringify(problem.errors));
    assert.match(problem.errors?.[0]?.message ?? "", message);
    assert.match(problem.detail, new RegExp(`^plugin demo-orders getOrder\\(\\): the input is invalid: ${pointer}`));
    assert.equal(hub.hub.plugins.info("demo-orders").calls, before, "the plugin was not called");
    assert.equal(hub.demo.counts().orders, 0, "the upstream was not called");
    return problem;
  }

  test("a number for an id, or no id at all, is 400 naming the field instead of 200 result: null", async () => {
    await refused(JSON.stringify({ method: "getOrder", input: { orderId: 42 } }), "/input/orderId", /must be string/);
    await refused(JSON.stringify({ method: "getOrder", input: {} }), "/input/orderId", /is required/);
    await refused(JSON.stringify({ method: "getOrder", input: { orderId: "SO-100001", expand: true } }), "/input/expand", /is not an allowed property/);
  });

  test("hostile ids are 400, not 502 or 503: a lone surrogate, 10k characters, a path", async () => {
    await refused('{"method":"getOrder","input":{"orderId":"SO-\\ud800"}}', "/input/orderId", /well-formed Unicode/);
    await refused(JSON.stringify({ method: "getOrder", input: { orderId: "S".repeat(10_000) } }), "/input/orderId", /must NOT have more than 128 characters/);
    await refused(JSON.stringify({ method: "getOrder", input: { orderId: "../_knobs/orders" } }), "/input/orderId", /must match pattern/);
  });

  test("a deep input is 400 past 32 levels; a 10k-deep body is 400 from the body parser's own bound (64), not a stack overflow", async () => {
    await refused(`{"method":"getOrder","input":{"orderId":"SO-100001","extra":${nested(40)}}}`, `/input/extra${"/a".repeat(31)}`, /nests deeper than 32 levels/);
    await refused(`{"method":"getOrder","input":${nested(40)}}`, `/input${"/a".repeat(32)}`, /nests deeper than 32 levels/);
    const response = await hub.request("/v1/plugins/demo-orders/invoke", { method: "POST", body: `{"method":"getOrder","input":${nested(10_000)}}`, headers: { "content-type": "application/json" } });
    const problem = await expectProblem(response, 400, "validation_failed");
    assert.equal(problem.errors?.[0]?.pointer, `/input${"/a".repeat(63)}`);
    assert.match(problem.errors?.[0]?.message ?? "", /nests deeper than 64 levels/);
  });

  test("a valid input still reaches the plugin, and the hub's own callers are held to the same schemas", async () => {
    const ok = await hub.request("/v1/plugins/demo-orders/invoke", { method: "POST", json: { method: "getOrder", input: { orderId: "SO-100001" } } });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { result: { id: string } }).result.id, "SO-100001");
    await assert.rejects(hub.hub.plugins.call("crm", "getCustomer", { customerId: 7 }), (error) => isHubError(error) && error.code === "validation_failed" && /\/input\/customerId must be string/.test(error.message));
  });
});

test("an order naming a customer id that is no business id degrades the customer as input_invalid", async () => {
  const plugins = writePlugins({
    "odd-orders": { manifest: { version: "1.0.0", kind: "orders", entry: "index.js" }, files: { "index.js": `export async function getOrder({ orderId }) { return { ...${JSON.stringify(VALID_ORDER)}, id: orderId, customerId: "C 1/../admin" }; }` } },
    "odd-crm": { manifest: { version: "1.0.0", kind: "crm", entry: "index.js" }, files: { "index.js": "export async function getCustomer() { throw new Error('must not be called'); }" } },
  });
  let hub: TestHub | undefined;
  try {
    hub = await startTestHub({ pluginsDir: plugins.dir, pluginWatch: false });
    const response = await hub.request("/v1/orders/SO-1/context?parts=order,customer", { scope: "read" });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { order: { customerId: string }; customer: unknown; degraded: unknown[] };
    assert.equal(body.order.customerId, "C 1/../admin");
    assert.equal(body.customer, null);
    assert.deepEqual(body.degraded, [{ part: "customer", reason: "input_invalid" }]);
    assert.equal(hub.hub.plugins.info("odd-crm").calls, 0);
  } finally {
    await hub?.close();
    plugins.remove();
  }
});

test("a transform's webhook body may be any JSON, within the bounds", () => {
  const check = createInputCheck({ schemas: createSchemaRegistry(hubPaths().schemas) });
  const site = { plugin: "t", kind: "transform" as const, method: "inbound" };
  check(site, { source: "helpdesk", headers: { "content-type": "application/json" }, body: [1, "two", { three: [null] }] });
  const code = (input: unknown): string | undefined => {
    try {
      check(site, input);
      return undefined;
    } catch (error) {
      return isHubError(error) ? `${error.code} ${error.options.errors?.[0]?.pointer}` : String(error);
    }
  };
  assert.equal(code({ source: "helpdesk", headers: { "x-count": 1 }, body: {} }), "validation_failed /input/headers/x-count");
  assert.equal(code({ source: "helpdesk", headers: {}, body: JSON.parse(nested(40)) as unknown }), `validation_failed /input/body${"/a".repeat(31)}`);
  assert.equal(code({ source: "helpdesk", headers: {}, body: { "\ud800": 1 } }), "validation_failed /input/body/\ud800");
  assert.equal(code({ source: "helpdesk", headers: {} }), "validation_failed /input/body");
});
