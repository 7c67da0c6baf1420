import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { writeFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import pino from "pino";
import { Registry } from "prom-client";
import { loadConfig } from "../../src/config/load-config.ts";
import { createAuth } from "../../src/http/auth.ts";
import { hubPaths } from "../../src/paths.ts";
import { createRedisFactory } from "../../src/redis/redis-factory.ts";
import { createRoutingModule } from "../../src/routing/routing-module.ts";
import { createSchemaRegistry } from "../../src/schemas/schema-registry.ts";
import { expectProblem } from "../helpers/problem.ts";
import { deleteKeys, eventually, startTestHub, TEST_REDIS_URL, type TestHub } from "../helpers/test-hub.ts";
import { manufacturerRuleset } from "./fixtures/generate.ts";

// Two hubs on one Redis under one prefix, as two processes of one deployment would be.
const prefix = `test-${randomUUID().slice(0, 8)}`;
let a: TestHub;
let b: TestHub;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "kefu-routing-"));
  a = await startTestHub({}, {}, { prefix, keepKeys: true });
  b = await startTestHub({ routingReconcileSeconds: 1 }, {}, { prefix, keepKeys: true });
});
after(async () => {
  // Both use the prefix: its keys go only once both are closed.
  await a.close();
  await b.close();
  await deleteKeys(prefix);
  await rm(dir, { recursive: true, force: true });
});

async function queueOn(hub: TestHub): Promise<{ queue: string; rulesetVersion: number }> {
  const res = await hub.request("/v1/routing/decide", { method: "POST", scope: "read", json: { facts: { productLine: "pumps", region: "DE" } } });
  assert.equal(res.status, 200);
  return ((await res.json()) as { decision: { queue: string; rulesetVersion: number } }).decision;
}

async function etag(hub: TestHub): Promise<string> {
  const res = await hub.request("/v1/routing/ruleset", { scope: "read" });
  assert.equal(res.status, 200);
  return res.headers.get("etag") ?? "";
}

test("a PUT on one hub changes the other hub's decisions within 1 s", async () => {
  const res = await a.request("/v1/routing/ruleset", { method: "PUT", json: manufacturerRuleset(), headers: { "if-match": await etag(a) } });
  assert.equal(res.status, 200);
  const version = ((await res.json()) as { version: number }).version;
  const started = Date.now();
  await eventually(async () => (await queueOn(b)).rulesetVersion === version, 1000, "hub b to switch");
  assert.ok(Date.now() - started <= 1000);
  assert.equal((await queueOn(b)).queue, "pumps-eu");
});

test("concurrent PUTs with the same If-Match: one wins, the other gets 412", async () => {
  const tag = await etag(a);
  const changed = manufacturerRuleset();
  changed.rules = changed.rules.filter((rule) => rule.name !== "lighting");
  const [first, second] = await Promise.all([
    a.request("/v1/routing/ruleset", { method: "PUT", json: changed, headers: { "if-match": tag } }),
    b.request("/v1/routing/ruleset", { method: "PUT", json: manufacturerRuleset(), headers: { "if-match": tag } }),
  ]);
  const statuses = [first.status, second.status].sort();
  assert.deepEqual(statuses, [200, 412]);
  const loser = first.status === 412 ? first : second;
  const problem = await expectProblem(loser, 412, "precondition_failed");
  assert.equal(problem["currentVersion"], Number(tag.replaceAll('"', "")) + 1);
});

test("rollback on one hub restores the earlier decisions on both", async () => {
  const changed = manufacturerRuleset();
  const pumpsEu = changed.rules.find((rule) => rule.name === "pumps-eu");
  if (pumpsEu) pumpsEu.event.params.queue = "pumps-europe-new";
  const put = await b.request("/v1/routing/ruleset", { method: "PUT", json: changed, headers: { "if-match": await etag(b) } });
  assert.equal(put.status, 200);
  await eventually(async () => (await queueOn(a)).queue === "pumps-europe-new", 1000, "hub a to take the change");
  const rollback = await a.request("/v1/routing/ruleset/rollback", { method: "POST", json: { version: 1 } });
  assert.equal(rollback.status, 200);
  for (const hub of [a, b]) await eventually(async () => (await queueOn(hub)).queue === "pumps-eu", 1000, "the rollback everywhere");
});

test("reconciliation repairs a hub that missed the change notice", async () => {
  const current = Number((await etag(b)).replaceAll('"', ""));
  const missed = manufacturerRuleset();
  const pumpsEu = missed.rules.find((rule) => rule.name === "pumps-eu");
  if (pumpsEu) pumpsEu.event.params.queue = "pumps-missed";
  // Written the way activation writes, minus the PUBLISH: no hub hears of it.
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const version = await redis.incr(`${prefix}:routing:seq`);
    const meta = { version, createdAt: new Date().toISOString(), createdBy: "test", summary: "silent change", basedOn: current };
    await redis.hset(`${prefix}:routing:v:${version}`, "ruleset", JSON.stringify(missed), "meta", JSON.stringify(meta));
    await redis.rpush(`${prefix}:routing:history`, JSON.stringify(meta));
    await redis.set(`${prefix}:routing:current`, String(version));
  } finally {
    await redis.quit();
  }
  // b reconciles every second (KEFU_ROUTING_RECONCILE_SECONDS=1); a, at the default 300 s, does not.
  await eventually(async () => (await queueOn(b)).queue === "pumps-missed", 3000, "hub b to reconcile");
  assert.equal((await queueOn(a)).queue, "pumps-eu");
});

test("KEFU_ROUTING_RULES seeds the ruleset at start, once, when it differs from Redis's", async () => {
  const file = join(dir, "rules.json");
  const seeded = manufacturerRuleset();
  seeded.description = "kept in git";
  await writeFile(file, JSON.stringify(seeded));
  const own = await startTestHub({ routingRules: file });
  try {
    const res = await own.request("/v1/routing/ruleset", { scope: "read" });
    const body = (await res.json()) as { version: number; createdBy: string; ruleset: { description: string } };
    assert.deepEqual([body.version, body.createdBy, body.ruleset.description], [1, `file:${file}`, "kept in git"]);
    // A second hub on the same prefix with the same file does not add a version.
    const again = await startTestHub({ routingRules: file }, {}, { prefix: own.prefix, keepKeys: true });
    await again.close();
    assert.equal(await etag(own), '"1"');

    // The file is the source of truth: a PUT through the API wins only until the next start.
    const changed = manufacturerRuleset();
    changed.description = "changed through the API";
    const put = await own.request("/v1/routing/ruleset", { method: "PUT", json: changed, headers: { "if-match": '"1"' } });
    assert.equal(put.status, 200);
    const restarted = await startTestHub({ routingRules: file }, {}, { prefix: own.prefix, keepKeys: true });
    try {
      const res = await restarted.request("/v1/routing/ruleset", { scope: "read" });
      const now = (await res.json()) as { version: number; createdBy: string; ruleset: { description: string } };
      assert.deepEqual([now.version, now.createdBy, now.ruleset.description], [3, `file:${file}`, "kept in git"]);
    } finally {
      await restarted.close();
    }
  } finally {
    await own.close();
  }
});

test("an invalid KEFU_ROUTING_RULES file stops the start, naming the file and the rule", async () => {
  const file = join(dir, "bad-rules.json");
  const bad = manufacturerRuleset();
  (bad.rules[1]?.conditions.all?.[0] as { fact: string }).fact = "customer.tierr";
  await writeFile(file, JSON.stringify(bad));
  const schemas = createSchemaRegistry(hubPaths().schemas);
  const config = loadConfig({ env: {}, schemas, overrides: { redisUrl: TEST_REDIS_URL, redisPrefix: `test-${randomUUID().slice(0, 8)}`, routingRules: file } });
  const redis = createRedisFactory(TEST_REDIS_URL, pino({ level: "silent" }));
  try {
    await assert.rejects(
      createRoutingModule({ config, logger: pino({ level: "silent" }), redis, schemas, registry: new Registry(), auth: createAuth([]) }),
      (error: Error) => error.message.includes(`KEFU_ROUTING_RULES=${file}`) && error.message.includes('rule "risk-review": unknown fact "customer.tierr"'),
    );
  } finally {
    await redis.closeAll();
    await deleteKeys(config.redisPrefix);
  }
});
