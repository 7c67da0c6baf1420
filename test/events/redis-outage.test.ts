import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { answersRedis } from "../../src/redis/resolve-redis.ts";
import { freePort } from "../../src/net/free-port.ts";
import { FAST, subscribe, ticketCreated } from "../delivery/fixtures.ts";
import { startReceiver } from "../delivery/receiver.ts";
import { eventually, startTestHub, type TestHub } from "../helpers/test-hub.ts";

// A Redis of the test's own (the shared one must not be killed), persisting every write (AOF,
// fsync always), so that a restart keeps what it acknowledged, as a production Redis should.
const dir = mkdtempSync(join(tmpdir(), "kefu-outage-"));
let redis: ChildProcess | undefined;
let port = 0;

async function startRedis(): Promise<void> {
  redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""], { stdio: "ignore" });
  await eventually(() => answersRedis("127.0.0.1", port), 5000, "the test's Redis to answer");
}
function killRedis(): Promise<void> {
  const dying = redis;
  if (!dying || dying.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    dying.once("exit", () => resolve());
    dying.kill("SIGKILL");
  });
}

after(async () => {
  await killRedis();
  rmSync(dir, { recursive: true, force: true });
});

async function post(hub: TestHub, event: Record<string, unknown>): Promise<{ status: number; ms: number; retryAfter: string | null; code?: string }> {
  const started = Date.now();
  const response = await hub.request("/v1/events", { method: "POST", scope: "ingest", json: event });
  const body = (await response.json()) as { code?: string };
  return { status: response.status, ms: Date.now() - started, retryAfter: response.headers.get("retry-after"), ...(body.code ? { code: body.code } : {}) };
}

test("a Redis outage is answered 503 within KEFU_INGEST_TIMEOUT_MS, and nothing answered 202 is lost across it", async () => {
  port = await freePort();
  await startRedis();
  const receiver = await startReceiver();
  const timeoutMs = 800;
  const hub = await startTestHub({ ...FAST, redisUrl: `redis://127.0.0.1:${port}`, ingestTimeoutMs: timeoutMs, redisPrefix: `test-outage-${randomUUID().slice(0, 8)}` });
  try {
    await subscribe(hub, `${receiver.url}/outage`);
    const accepted: string[] = [];
    const postAll = async (count: number): Promise<Awaited<ReturnType<typeof post>>[]> => {
      const results = await Promise.all(Array.from({ length: count }, async () => {
        const event = ticketCreated();
        const result = await post(hub, event);
        if (result.status === 202) accepted.push(String(event["id"]));
        return result;
      }));
      return results;
    };
    assert.ok((await postAll(20)).every((r) => r.status === 202));

    await killRedis();
    const during = await postAll(10);
    for (const result of during) {
      assert.equal(result.status, 503, JSON.stringify(result));
      assert.equal(result.code, "unavailable");
      assert.equal(result.retryAfter, "2");
      assert.ok(result.ms < timeoutMs + 1000, `answered after ${result.ms} ms, not held`);
    }
    const ready = await hub.request("/readyz", { scope: "none" });
    assert.equal(ready.status, 503, "readiness says so too");

    await startRedis();
    // Posts succeed again once the hub has reconnected (ioredis backs off up to 2 s).
    await eventually(async () => (await post(hub, ticketCreated())).status === 202, 10_000, "ingest to work again");
    assert.ok((await postAll(20)).every((r) => r.status === 202));
    await eventually(() => accepted.every((id) => receiver.received.some((r) => r.headers["webhook-id"] === id)), 15_000, "every accepted event delivered");
  } finally {
    await hub.close();
    await receiver.close();
  }
});
