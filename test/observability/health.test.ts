import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { expectProblem } from "../helpers/problem.ts";
import { startTestHub, type TestHub } from "../helpers/test-hub.ts";

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

test("/readyz is 503 problem+json naming the reason while Redis is unreachable", async () => {
  const unreachable = await startTestHub({ redisUrl: "redis://127.0.0.1:1" });
  try {
    const problem = await expectProblem(await unreachable.request("/readyz", { scope: "none" }), 503, "not_ready");
    assert.match(problem.detail, /redis/);
  } finally {
    await unreachable.close();
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
