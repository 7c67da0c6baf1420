import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { freePort, startHubProcess } from "../helpers/hub-process.ts";
import { expectProblem } from "../helpers/problem.ts";
import { eventually, startTestHub, type TestHub } from "../helpers/test-hub.ts";

let hub: TestHub;
before(async () => {
  hub = await startTestHub();
});
after(() => hub.close());

test("/healthz answers without a key", async () => {
  const response = await hub.request("/healthz", { scope: "none" });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: "ok" });
});

test("/readyz is 200 once Redis answers, with each check", async () => {
  const response = await hub.request("/readyz", { scope: "none" });
  assert.equal(response.status, 200);
  const body = (await response.json()) as { status: string; checks: Record<string, string> };
  assert.equal(body.status, "ready");
  assert.equal(body.checks["redis"], "ok");
});

test("while Redis is not up yet: /healthz 200, /readyz 503 naming Redis; ready once Redis starts", { timeout: 30_000 }, async () => {
  const redisPort = await freePort();
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const hubProcess = await startHubProcess({ REDIS_URL: `redis://127.0.0.1:${redisPort}`, KEFU_REDIS_PREFIX: prefix }, "listening");
  const redis = { server: undefined as ChildProcess | undefined };
  try {
    assert.equal((await fetch(`${hubProcess.url}/healthz`)).status, 200);
    const problem = await expectProblem(await fetch(`${hubProcess.url}/readyz`), 503, "not_ready");
    assert.match(problem.detail, new RegExp(`waiting for Redis at redis://127.0.0.1:${redisPort}`));
    await expectProblem(await fetch(`${hubProcess.url}/v1/whoami`), 503, "not_ready");

    redis.server = spawn("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    await eventually(async () => (await fetch(`${hubProcess.url}/readyz`)).status === 200, 20_000, "readiness after Redis started");
  } finally {
    hubProcess.child.kill("SIGTERM");
    await hubProcess.exited;
    redis.server?.kill("SIGKILL");
  }
});

test("/metrics has default metrics and the request histogram labelled by route pattern", async () => {
  assert.equal((await hub.request("/v1/whoami")).status, 200);
  const response = await hub.request("/metrics", { scope: "none" });
  assert.equal(response.status, 200);
  const text = await response.text();
  assert.match(text, /process_cpu_user_seconds_total/);
  assert.match(text, /http_request_duration_seconds_count\{method="GET",route="\/v1\/whoami",status="200"\} \d+/);
});

test("whoami answers the caller's scopes; admin implies the others", async () => {
  const read = await hub.request("/v1/whoami", { scope: "read" });
  assert.equal(read.status, 200);
  assert.deepEqual(((await read.json()) as { scopes: string[] }).scopes, ["read"]);
  const admin = await hub.request("/v1/whoami", { scope: "admin" });
  const body = (await admin.json()) as { keyId: string; scopes: string[] };
  assert.deepEqual(body.scopes, ["admin", "ingest", "read"]);
  assert.match(body.keyId, /^[0-9a-f]{12}$/);
  assert.doesNotMatch(JSON.stringify(body), /test-admin-key/);
});
