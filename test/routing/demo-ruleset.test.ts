import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { deleteKeysAt } from "../helpers/delete-keys.ts";
import { startHubProcess, type HubProcess } from "../helpers/hub-process.ts";
import { TEST_KEYS, TEST_REDIS_URL } from "../helpers/test-hub.ts";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const EXAMPLE = JSON.parse(readFileSync(new URL("../../docs/examples/manufacturer-ruleset.json", import.meta.url), "utf8")) as { name: string };

interface Decided {
  decision: { queue: string; matchedRules: string[]; degraded: boolean };
}

/** The body of the README's `curl … /v1/routing/decide … -d '…'`: what a new user pastes. */
function readmeDecideBody(): { event: { data: Record<string, unknown> } } {
  const body = /\/v1\/routing\/decide[^\n]*\\\n\s*-d '([^']+)'/.exec(README)?.[1];
  assert.ok(body, "the README shows a curl to /v1/routing/decide with -d '…'");
  return JSON.parse(body) as { event: { data: Record<string, unknown> } };
}

function demoHub(prefix: string, env: Record<string, string> = {}): Promise<HubProcess> {
  return startHubProcess({ KEFU_REDIS_PREFIX: prefix, KEFU_DEMO_BUSINESS_SYSTEM: "true", KEFU_DEMO_BUSINESS_SYSTEM_PORT: "0", KEFU_PLUGIN_WATCH: "false", ...env });
}

async function stop(hub: HubProcess): Promise<void> {
  hub.child.kill("SIGTERM");
  await hub.exited;
}

function call(hub: HubProcess, path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${TEST_KEYS.admin}`, ...(init.json === undefined ? {} : { "content-type": "application/json" }) };
  return fetch(`${hub.url}${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) }, ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }) });
}

async function current(hub: HubProcess): Promise<{ version: number; createdBy: string; ruleset: { name?: string } }> {
  const response = await call(hub, "/v1/routing/ruleset");
  assert.equal(response.status, 200);
  return (await response.json()) as { version: number; createdBy: string; ruleset: { name?: string } };
}

async function decide(hub: HubProcess, body: unknown): Promise<Decided["decision"]> {
  const response = await call(hub, "/v1/routing/decide", { method: "POST", json: body });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  return (JSON.parse(text) as Decided).decision;
}

test("under kefu-hub start with the demo, the worked example ruleset is active and decides as the README says", { timeout: 60_000 }, async () => {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const hub = await demoHub(prefix);
  try {
    const active = await current(hub);
    assert.equal(active.version, 1);
    assert.equal(active.ruleset.name, EXAMPLE.name);
    assert.match(active.createdBy, /^file:.*docs\/examples\/manufacturer-ruleset\.json$/);

    const body = readmeDecideBody();
    const pumps = await decide(hub, body);
    assert.match(README, /"queue": "pumps-eu"`, `"matchedRules": \["pumps-eu"\]`/);
    assert.deepEqual([pumps.queue, pumps.matchedRules, pumps.degraded], ["pumps-eu", ["pumps-eu"], false]);

    // The README's second case: a platinum customer of the demo CRM, a fact fetched through its plugin.
    assert.match(README, /"customerId": "C-0006"`, a platinum customer/);
    const platinum = await decide(hub, { event: { ...body.event, data: { ...body.event.data, customerId: "C-0006" } } });
    assert.deepEqual([platinum.queue, platinum.matchedRules, platinum.degraded], ["key-accounts", ["key-account-platinum"], false]);
  } finally {
    await stop(hub);
    await deleteKeysAt(TEST_REDIS_URL, prefix);
  }
});

test("a ruleset activated through the API survives a restart of the demo; without the demo the built-in default stays", { timeout: 90_000 }, async () => {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  try {
    const first = await demoHub(prefix);
    try {
      assert.equal((await current(first)).version, 1);
      const own = { name: "ours", default: { businessLine: "general", queue: "ours", agentGroup: "everyone", priority: "normal", tags: [], slaMinutes: 60 }, rules: [] };
      const put = await call(first, "/v1/routing/ruleset", { method: "PUT", json: own, headers: { "if-match": '"1"' } });
      assert.equal(put.status, 200, await put.text());
    } finally {
      await stop(first);
    }
    const second = await demoHub(prefix);
    try {
      const kept = await current(second);
      assert.deepEqual([kept.version, kept.ruleset.name], [2, "ours"]);
    } finally {
      await stop(second);
    }

    const other = `test-${randomUUID().slice(0, 8)}`;
    const plain = await startHubProcess({ KEFU_REDIS_PREFIX: other });
    try {
      assert.equal((await current(plain)).version, 0);
    } finally {
      await stop(plain);
      await deleteKeysAt(TEST_REDIS_URL, other);
    }
  } finally {
    await deleteKeysAt(TEST_REDIS_URL, prefix);
  }
});
