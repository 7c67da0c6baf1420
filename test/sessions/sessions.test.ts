import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually, type TestHub } from "../helpers/test-hub.ts";
import { startTestHubWithDemo } from "../helpers/test-hub-with-demo.ts";
import { behavior, closeSession, getSession, openSession, postBehavior, postEvent } from "./helpers.ts";

describe("sessions from chat events, behaviour folded in", () => {
  let hub: TestHub;
  before(async () => {
    hub = await startTestHubWithDemo();
  });
  after(() => hub.close());

  it("chat.session.opened opens a session with its customer, channel, order, routing and the CRM profile", async () => {
    await openSession(hub, "S-open-1", "C-0001", { orderId: "SO-100003" });
    const session = await eventually(async () => {
      const found = await getSession(hub, "S-open-1");
      return found?.customer.profile ? found : undefined;
    }, 5000, "the session with its CRM profile");
    assert.equal(session.state, "open");
    assert.equal(session.customer.id, "C-0001");
    assert.equal(session.customer.profile?.["id"], "C-0001");
    assert.equal((session as unknown as { orderId: string }).orderId, "SO-100003");
    assert.equal(typeof session.routing?.["queue"], "string", "the opening event's routing decision is attached");
    assert.deepEqual(session.behavior.counters, { paymentFailed10m: 0, pageViews30m: 0 });
  });

  it("three payment.failed within 10 minutes make the risk high; a fourth resend of one id changes nothing", async () => {
    await openSession(hub, "S-risk-1", "C-0002");
    await eventually(() => getSession(hub, "S-risk-1"));
    const failures = [1, 2, 3].map((n) => behavior("C-0002", "payment.failed", { orderId: `SO-10000${n}` }, `bev-risk-${hub.prefix}-${n}`));
    const first = await postBehavior(hub, failures.slice(0, 2));
    assert.deepEqual(first.results.map((r) => r.outcome), ["applied", "applied"]);
    assert.notEqual((await getSession(hub, "S-risk-1"))?.risk.reasons.includes("repeated-payment-failures"), true);
    const second = await postBehavior(hub, [failures[2], failures[0]]);
    assert.deepEqual(second.results.map((r) => r.outcome), ["applied", "duplicate"]);
    const session = await getSession(hub, "S-risk-1");
    assert.equal(session?.behavior.counters["paymentFailed10m"], 3, "counted once per id");
    assert.equal(session?.risk.level, "high");
    assert.ok(session?.risk.reasons.includes("repeated-payment-failures"));
    assert.deepEqual(session?.behavior.recent.map((event) => event.id).slice(0, 3), [failures[2]?.["id"], failures[1]?.["id"], failures[0]?.["id"]]);
  });

  it("events for customers without an open session are filtered; bad items are answered per item and dead-lettered", async () => {
    await openSession(hub, "S-mixed-1", "C-0003");
    await eventually(() => getSession(hub, "S-mixed-1"));
    const { results } = await postBehavior(hub, [
      behavior("C-9999", "page.viewed", { url: "/" }),
      { id: "x", customerId: "C-0003", type: "page.viewed", data: {} },
      behavior("C-0003", "page.viewed", { url: "/cart" }),
      behavior("C-0003", "some.unused_type", {}),
      behavior("C-0003", "page.viewed", { blob: "x".repeat(70_000) }),
    ]);
    assert.deepEqual(results.map((r) => r.outcome), ["filtered", "invalid", "applied", "filtered", "invalid"]);
    assert.equal(results[1]?.errors?.[0]?.pointer, "/occurredAt");
    assert.match(results[4]?.errors?.[0]?.message ?? "", /larger than 65536 bytes/);
    const session = await getSession(hub, "S-mixed-1");
    assert.equal(session?.behavior.latest["lastPage"], "/cart");
    const dead = (await (await hub.request("/v1/behavior-events/dead-letters?limit=10", { scope: "read" })).json()) as { items: { source: string; reason: string }[] };
    assert.equal(dead.items.length, 2);
    assert.ok(dead.items.every((item) => item.source === "http"));
    assert.match(dead.items[1]?.reason ?? "", /occurredAt/);
  });

  it("chat messages count, and a closed session stays readable but takes no more behaviour", async () => {
    await openSession(hub, "S-close-1", "C-0004");
    await eventually(() => getSession(hub, "S-close-1"));
    await postEvent(hub, "chat.message.created", { sessionId: "S-close-1", messageId: "M-1", sender: { type: "customer", id: "C-0004" }, text: "hello" });
    await eventually(async () => (await getSession(hub, "S-close-1"))?.messageCount === 1, 5000, "the message to count");
    await closeSession(hub, "S-close-1");
    const closed = await eventually(async () => {
      const found = await getSession(hub, "S-close-1");
      return found?.state === "closed" ? found : undefined;
    }, 5000, "the session to close");
    assert.ok(closed.lastMessageAt);
    const { results } = await postBehavior(hub, [behavior("C-0004", "page.viewed", { url: "/after" })]);
    assert.deepEqual(results.map((r) => r.outcome), ["filtered"]);
    const list = (await (await hub.request("/v1/sessions?customerId=C-0004", { scope: "read" })).json()) as { items: { sessionId: string; state: string }[] };
    assert.deepEqual(list.items.map((s) => [s.sessionId, s.state]), [["S-close-1", "closed"]]);
  });

  it("GET answers 404 problem+json for an unknown session and 304 for its current ETag", async () => {
    const missing = await hub.request("/v1/sessions/S-none", { scope: "read" });
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get("content-type") ?? "", /application\/problem\+json/);
    await openSession(hub, "S-etag-1", "C-0005");
    // The CRM profile lands in a second write after the open; take the ETag once the session is settled.
    await eventually(async () => {
      const found = await getSession(hub, "S-etag-1");
      return found && found.customer.profile !== null ? found : undefined;
    }, 5000, "the session with its CRM profile");
    const first = await hub.request("/v1/sessions/S-etag-1", { scope: "read" });
    const etag = first.headers.get("etag") ?? "";
    const again = await hub.request("/v1/sessions/S-etag-1", { scope: "read", headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
  });

  it("an open session answers the same from memory before express as through express's route", async () => {
    await openSession(hub, "S-fast-1", "C-0006");
    await eventually(async () => (await getSession(hub, "S-fast-1"))?.customer.profile ?? undefined, 5000, "the session with its CRM profile");
    const answerOf = async (path: string, init: Parameters<TestHub["request"]>[1] = { scope: "read" }) => {
      const response = await hub.request(path, init);
      const headers = Object.fromEntries(["content-type", "content-length", "etag"].map((name) => [name, response.headers.get(name)]));
      return { status: response.status, headers, body: await response.text() };
    };
    // A plain id is answered from memory; a query or an encoded id goes through express.
    const fast = await answerOf("/v1/sessions/S-fast-1");
    assert.equal(fast.status, 200);
    assert.deepEqual(await answerOf("/v1/sessions/S-fast-1?via=express"), fast);
    assert.deepEqual(await answerOf("/v1/sessions/S%2Dfast-1"), fast);
    const etag = fast.headers["etag"] ?? "";
    for (const path of ["/v1/sessions/S-fast-1", "/v1/sessions/S-fast-1?via=express"]) {
      assert.equal((await hub.request(path, { scope: "read", headers: { "if-none-match": etag } })).status, 304, path);
    }
    // What the fast read declines, express answers with its problems.
    assert.equal((await hub.request("/v1/sessions/S-fast-1", { scope: "none" })).status, 401);
    assert.equal((await hub.request("/v1/sessions/S-fast-1", { scope: "ingest" })).status, 403);
    assert.equal((await hub.request("/v1/sessions/%ff", { scope: "read" })).status, 400);
  });
});

describe("the demo behaviour generator (npm start)", () => {
  it("opens the demo sessions and feeds them behaviour", async () => {
    const hub = await startTestHubWithDemo();
    try {
      hub.hub.startDemoBehavior();
      const session = await eventually(async () => {
        const found = await getSession(hub, "S-demo-2");
        return found && found.behavior.recent.length >= 2 ? found : undefined;
      }, 8000, "the demo session to get behaviour");
      assert.equal(session.customer.id, "C-0002");
      assert.ok(session.customer.profile, "the demo CRM's profile is attached");
    } finally {
      await hub.close();
    }
  });
});

describe("routing reads session facts", () => {
  it("a ticket from a chat whose session risk is high takes the risk rule's route", async () => {
    const hub = await startTestHubWithDemo();
    try {
      const ruleset = {
        default: { businessLine: "general", queue: "general", agentGroup: "general", priority: "normal", slaMinutes: 480 },
        rules: [{ name: "risky-session", priority: 10, conditions: { all: [{ fact: "session.risk.level", operator: "equal", value: "high" }] }, event: { type: "route", params: { businessLine: "risk", queue: "risk-review" } } }],
      };
      assert.equal((await hub.request("/v1/routing/ruleset", { method: "PUT", headers: { "if-match": "*" }, json: ruleset })).status, 200);
      await openSession(hub, "S-route-1", "C-0006");
      await eventually(() => getSession(hub, "S-route-1"));
      await postBehavior(hub, [1, 2, 3].map(() => behavior("C-0006", "payment.failed", {})));
      const decide = async (sessionId: string): Promise<string> => {
        const response = await hub.request("/v1/routing/decide", { method: "POST", scope: "read", json: { event: { type: "ticket.created", data: { ticketId: "T-1", subject: "refund?", customer: { id: "C-0006" }, sessionId } } } });
        assert.equal(response.status, 200);
        return ((await response.json()) as { decision: { queue: string } }).decision.queue;
      };
      assert.equal(await decide("S-route-1"), "risk-review");
      assert.equal(await decide("S-unknown"), "general");
    } finally {
      await hub.close();
    }
  });
});
