import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { startHubProcess, type HubProcess } from "../helpers/hub-process.ts";
import { deleteKeys, eventually, TEST_KEYS } from "../helpers/test-hub.ts";
import { manufacturerRuleset } from "./fixtures/generate.ts";

// The same as two-hubs.test.ts, with two real `kefu-hub start` processes sharing one Redis.
const prefix = `test-${randomUUID().slice(0, 8)}`;
const auth = { authorization: `Bearer ${TEST_KEYS.admin}` };
let a: HubProcess;
let b: HubProcess;

before(async () => {
  [a, b] = await Promise.all([startHubProcess({ KEFU_REDIS_PREFIX: prefix }), startHubProcess({ KEFU_REDIS_PREFIX: prefix })]);
});
after(async () => {
  for (const hub of [a, b]) hub?.child.kill("SIGTERM");
  await Promise.all([a?.exited, b?.exited]);
  await deleteKeys(prefix);
});

async function decisionOn(hub: HubProcess): Promise<{ queue: string; rulesetVersion: number }> {
  const res = await fetch(`${hub.url}/v1/routing/decide`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ facts: { productLine: "pumps", region: "DE" } }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { decision: { queue: string; rulesetVersion: number } }).decision;
}

test("two hub processes on one Redis: a PUT on one changes the other's decisions within 1 s", { timeout: 30_000 }, async () => {
  const current = await fetch(`${a.url}/v1/routing/ruleset`, { headers: auth });
  assert.equal(current.status, 200);
  const put = await fetch(`${a.url}/v1/routing/ruleset`, {
    method: "PUT",
    headers: { ...auth, "content-type": "application/json", "if-match": current.headers.get("etag") ?? "" },
    body: JSON.stringify(manufacturerRuleset()),
  });
  assert.equal(put.status, 200);
  const { version } = (await put.json()) as { version: number };
  const started = Date.now();
  await eventually(async () => (await decisionOn(b)).rulesetVersion === version, 1000, "process b to switch");
  assert.ok(Date.now() - started <= 1000);
  assert.equal((await decisionOn(b)).queue, "pumps-eu");
});
