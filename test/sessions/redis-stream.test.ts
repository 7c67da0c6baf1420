import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import type { FaultPoint } from "../../src/fault-points.ts";
import { deleteKeys, eventually, startTestHub, TEST_REDIS_URL, type TestHub } from "../helpers/test-hub.ts";
import { startHubProcess, type HubProcess } from "../helpers/hub-process.ts";
import { behavior, getSession, openSession } from "./helpers.ts";

const redis = new Redis(TEST_REDIS_URL);
after(() => redis.quit());

async function xadd(stream: string, events: Record<string, unknown>[]): Promise<void> {
  const pipeline = redis.pipeline();
  for (const event of events) pipeline.xadd(stream, "*", "event", JSON.stringify(event));
  await pipeline.exec();
}

async function groupDone(stream: string): Promise<boolean> {
  const groups = (await redis.call("XINFO", "GROUPS", stream)) as unknown[][];
  const fields = groups[0] ?? [];
  const value = (name: string): unknown => fields[fields.indexOf(name) + 1];
  return value("pending") === 0 && value("lag") === 0;
}

describe("the Redis Stream source", () => {
  let hub: TestHub;
  let stream: string;
  let failNext = 0;
  before(async () => {
    const prefix = `test-rs-${Math.random().toString(36).slice(2, 10)}`;
    stream = `${prefix}:behavior`;
    hub = await startTestHub({ behaviorRedisStream: stream }, {}, {
      prefix,
      faults: (point: FaultPoint) => {
        if (point === "behavior.applied" && failNext > 0) {
          failNext--;
          throw new Error("injected crash after apply, before XACK");
        }
      },
    });
  });
  after(() => hub.close());

  it("applies stream entries, acknowledges them, counts bad ones and dead-letters them", async () => {
    await openSession(hub, "S-rs-1", "C-rs-1");
    await eventually(() => getSession(hub, "S-rs-1"));
    await xadd(stream, [behavior("C-rs-1", "page.viewed", { url: "/a" }), behavior("C-other", "page.viewed", { url: "/b" }), { nonsense: true }, behavior("C-rs-1", "page.viewed", { url: "/c" })]);
    await eventually(() => groupDone(stream), 5000, "the group to acknowledge everything");
    const session = await getSession(hub, "S-rs-1");
    assert.equal(session?.behavior.counters["pageViews30m"], 2);
    assert.equal(session?.behavior.latest["lastPage"], "/c");
    const metrics = await (await fetch(`${hub.url}/metrics`)).text();
    assert.match(metrics, /kefu_behavior_events_total\{source="redis-stream",outcome="applied"\} 2/);
    assert.match(metrics, /kefu_behavior_events_total\{source="redis-stream",outcome="filtered"\} 1/);
    assert.match(metrics, /kefu_behavior_events_total\{source="redis-stream",outcome="invalid"\} 1/);
  });

  it("a crash after the effect and before XACK redelivers the batch, and counters stay exact", async () => {
    await openSession(hub, "S-rs-2", "C-rs-2");
    await eventually(() => getSession(hub, "S-rs-2"));
    failNext = 1;
    await xadd(stream, [1, 2, 3].map((n) => behavior("C-rs-2", "payment.failed", { n })));
    await eventually(() => groupDone(stream), 8000, "the redelivered batch to be acknowledged");
    assert.equal(failNext, 0, "the fault was hit");
    const session = await getSession(hub, "S-rs-2");
    assert.equal(session?.behavior.counters["paymentFailed10m"], 3);
    assert.equal(session?.risk.level, "high");
    const metrics = await (await fetch(`${hub.url}/metrics`)).text();
    // The fault hit the first batch read (one or more of the three entries): those came back as duplicates.
    assert.match(metrics, /kefu_behavior_events_total\{source="redis-stream",outcome="duplicate"\} [123]\n/);
  });
});

describe("SIGKILL while consuming", () => {
  it("loses no acknowledged effect and applies none twice: the counter equals the events sent", async () => {
    const prefix = `test-rskill-${Math.random().toString(36).slice(2, 10)}`;
    const stream = `${prefix}:behavior`;
    const env = { KEFU_REDIS_PREFIX: prefix, KEFU_BEHAVIOR_REDIS_STREAM: stream, KEFU_BEHAVIOR_CLAIM_IDLE_MS: "300", KEFU_DEMO_BEHAVIOR: "false" };
    let hub: HubProcess | undefined;
    try {
      hub = await startHubProcess(env);
      const request = (path: string, init: RequestInit = {}): Promise<Response> =>
        fetch(`${(hub as HubProcess).url}${path}`, { ...init, headers: { authorization: "Bearer test-admin-key-0001", "content-type": "application/json", ...init.headers } });
      // A counter wide enough for every event of the test.
      const fusion = { recent: { size: 3, types: ["*"] }, counters: [{ name: "clicks", type: "button.clicked", windowSeconds: 86400, max: 10000 }], latest: [], risk: { default: "low", rules: [] } };
      assert.equal((await request("/v1/fusion", { method: "PUT", headers: { "if-match": "*" }, body: JSON.stringify(fusion) })).status, 200);
      const opened = await request("/v1/events", { method: "POST", body: JSON.stringify({ type: "chat.session.opened", occurredAt: new Date().toISOString(), source: "test", data: { sessionId: "S-kill", channel: "web", customer: { id: "C-kill" } } }) });
      assert.equal(opened.status, 202);
      await eventually(async () => (await request("/v1/sessions/S-kill")).status === 200);
      const total = 3000;
      await xadd(stream, Array.from({ length: total }, (_, i) => behavior("C-kill", "button.clicked", { i }, `kill-${i}`)));
      // Kill once part of the stream is applied, so that entries are pending at the kill.
      await eventually(async () => {
        const body = (await (await request("/v1/sessions/S-kill")).json()) as { behavior: { counters: { clicks?: number } } };
        return (body.behavior.counters.clicks ?? 0) > 200;
      }, 10_000, "consumption to start");
      hub.child.kill("SIGKILL");
      await hub.exited;
      hub = await startHubProcess(env);
      await eventually(() => groupDone(stream), 20_000, "the restarted hub to finish the stream");
      const body = (await (await request("/v1/sessions/S-kill")).json()) as { behavior: { counters: { clicks: number } } };
      assert.equal(body.behavior.counters.clicks, total);
    } finally {
      hub?.child.kill("SIGKILL");
      await hub?.exited;
      await deleteKeys(prefix);
      await redis.del(stream);
    }
  });
});
