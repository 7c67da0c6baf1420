import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { deleteKeys, eventually, startTestHub, type TestHub } from "../helpers/test-hub.ts";
import { behavior, getSession, openSession, postBehavior } from "./helpers.ts";

/** Reads SSE events from a streaming fetch body, one `{id, event, data}` per call. */
function sseReader(body: ReadableStream<Uint8Array>): { next(): Promise<{ id?: string; event?: string; data?: string; comment?: string }>; cancel(): Promise<void> } {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  return {
    async next() {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const message: { id?: string; event?: string; data?: string; comment?: string } = {};
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) message.comment = line.slice(1).trim();
            else {
              const colon = line.indexOf(":");
              const field = line.slice(0, colon) as "id" | "event" | "data";
              message[field] = line.slice(colon + 1).trimStart();
            }
          }
          return message;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("the stream ended");
        buffer += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

describe("the session stream (SSE)", () => {
  let hub: TestHub;
  before(async () => {
    hub = await startTestHub({ sessionsHeartbeatMs: 200 });
  });
  after(() => hub.close());

  it("sends the context at once and on each change, resumes after Last-Event-ID, and beats", async () => {
    await openSession(hub, "S-sse-1", "C-sse-1");
    const opened = await eventually(() => getSession(hub, "S-sse-1"));
    const response = await hub.request("/v1/sessions/S-sse-1/stream", { scope: "read" });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /text\/event-stream/);
    const stream = sseReader(response.body as ReadableStream<Uint8Array>);
    const first = await stream.next();
    assert.equal(first.event, "context");
    assert.equal(first.id, String(opened.version));
    await postBehavior(hub, [behavior("C-sse-1", "page.viewed", { url: "/live" })]);
    let changed = await stream.next();
    while (changed.comment !== undefined) changed = await stream.next();
    assert.equal(Number(changed.id), Number(first.id) + 1);
    assert.equal((JSON.parse(changed.data ?? "{}") as { behavior: { latest: { lastPage: string } } }).behavior.latest.lastPage, "/live");
    let beat = await stream.next();
    while (beat.comment === undefined) beat = await stream.next();
    assert.equal(beat.comment, "heartbeat");
    await stream.cancel();

    // Resuming with the current version sends nothing until the next change.
    const resumed = await hub.request("/v1/sessions/S-sse-1/stream", { scope: "read", headers: { "last-event-id": String(changed.id) } });
    const again = sseReader(resumed.body as ReadableStream<Uint8Array>);
    await postBehavior(hub, [behavior("C-sse-1", "page.viewed", { url: "/next" })]);
    let next = await again.next();
    while (next.comment !== undefined) next = await again.next();
    assert.equal(Number(next.id), Number(changed.id) + 1, "the first event after a resume is the next change");
    await again.cancel();
  });

  it("answers 404 problem+json before streaming for an unknown session", async () => {
    const response = await hub.request("/v1/sessions/S-missing/stream", { scope: "read" });
    assert.equal(response.status, 404);
    assert.match(response.headers.get("content-type") ?? "", /problem\+json/);
  });
});

describe("two hub instances on one Redis", () => {
  it("a session opened and changed through one is read and streamed by the other", async () => {
    const a = await startTestHub({}, {}, { keepKeys: true });
    const b = await startTestHub({}, {}, { prefix: a.prefix, keepKeys: true });
    try {
      await openSession(a, "S-two-1", "C-two-1");
      await eventually(() => getSession(b, "S-two-1"), 2000, "instance B to see the session");
      // B's Bloom filter and customer index know the customer: behaviour posted to B applies.
      const { results } = await postBehavior(b, [behavior("C-two-1", "payment.failed", {}), behavior("C-two-1", "payment.failed", {}), behavior("C-two-1", "payment.failed", {})]);
      assert.deepEqual(results.map((r) => r.outcome), ["applied", "applied", "applied"]);
      const seenByA = await eventually(async () => {
        const session = await getSession(a, "S-two-1");
        return session?.risk.level === "high" ? session : undefined;
      }, 2000, "instance A to see the change");
      assert.equal(seenByA.behavior.counters["paymentFailed10m"], 3);
      // A fusion change on one instance is in force on the other.
      const fusion = (await (await a.request("/v1/fusion", { scope: "read" })).json()) as { document: { recent: { size: number } } };
      const put = await a.request("/v1/fusion", { method: "PUT", headers: { "if-match": '"0"' }, json: { ...fusion.document, recent: { size: 1, types: ["*"] } } });
      assert.equal(put.status, 200);
      await eventually(async () => ((await (await b.request("/v1/fusion", { scope: "read" })).json()) as { version: number }).version === 1);
      await eventually(async () => {
        await postBehavior(b, [behavior("C-two-1", "anything.happened", {})]);
        return (await getSession(a, "S-two-1"))?.behavior.recent.length === 1;
      }, 3000, "B to fold with the new fusion document");
    } finally {
      await b.close();
      await a.close();
      await deleteKeys(a.prefix);
    }
  });

  it("batches racing on the same sessions from both instances lose no event and count none twice", async () => {
    const a = await startTestHub({}, {}, { keepKeys: true });
    const b = await startTestHub({}, {}, { prefix: a.prefix, keepKeys: true });
    const customers = ["C-race-1", "C-race-2", "C-race-3"];
    try {
      for (const [k, customer] of customers.entries()) await openSession(a, `S-race-${k}`, customer);
      for (const k of customers.keys()) await eventually(() => getSession(b, `S-race-${k}`), 2000, "instance B to see the sessions");
      // Each batch changes every session; the two instances write over each other's versions.
      const batch = (): Record<string, unknown>[] => customers.map((customer) => behavior(customer, "payment.failed", {}));
      const rounds = 10;
      await Promise.all([a, b].map(async (hub) => {
        for (let round = 0; round < rounds; round++) {
          const { results } = await postBehavior(hub, batch());
          assert.deepEqual(results.map((r) => r.outcome), ["applied", "applied", "applied"]);
        }
      }));
      for (const k of customers.keys()) {
        const [onA, onB] = await eventually(async () => {
          const both = await Promise.all([getSession(a, `S-race-${k}`), getSession(b, `S-race-${k}`)]);
          return both[0]?.version === both[1]?.version ? both : undefined;
        }, 2000, "both instances to mirror the same version");
        assert.equal(onA?.behavior.counters["paymentFailed10m"], rounds * 2);
        assert.equal(onB?.behavior.counters["paymentFailed10m"], rounds * 2);
      }
    } finally {
      await b.close();
      await a.close();
      await deleteKeys(a.prefix);
    }
  });
});

describe("PUT /v1/fusion", () => {
  let hub: TestHub;
  before(async () => {
    hub = await startTestHub();
  });
  after(() => hub.close());

  it("needs If-Match, refuses a stale one with 412, and names the field of a bad document", async () => {
    const current = (await (await hub.request("/v1/fusion", { scope: "read" })).json()) as { version: number; document: Record<string, unknown> };
    assert.equal(current.version, 0);
    const noMatch = await hub.request("/v1/fusion", { method: "PUT", json: current.document });
    assert.equal(noMatch.status, 428);
    const badFact = { ...current.document, risk: { default: "low", rules: [{ name: "r", level: "high", conditions: { all: [{ fact: "nope", operator: "equal", value: 1 }] } }] } };
    const bad = await hub.request("/v1/fusion", { method: "PUT", headers: { "if-match": '"0"' }, json: badFact });
    assert.equal(bad.status, 422);
    const problem = (await bad.json()) as { errors: { pointer: string; message: string }[] };
    assert.equal(problem.errors[0]?.pointer, "/risk/rules/0/conditions/all/0/fact");
    const badShape = await hub.request("/v1/fusion", { method: "PUT", headers: { "if-match": '"0"' }, json: { ...current.document, recent: { size: -1, types: [] } } });
    assert.equal(badShape.status, 400);
    assert.equal(((await badShape.json()) as { errors: { pointer: string }[] }).errors[0]?.pointer, "/recent/size");
    assert.equal((await hub.request("/v1/fusion", { method: "PUT", headers: { "if-match": '"0"' }, json: current.document })).status, 200);
    const stale = await hub.request("/v1/fusion", { method: "PUT", headers: { "if-match": '"0"' }, json: current.document });
    assert.equal(stale.status, 412);
    const forbidden = await hub.request("/v1/fusion", { method: "PUT", scope: "read", headers: { "if-match": "*" }, json: current.document });
    assert.equal(forbidden.status, 403);
  });
});
