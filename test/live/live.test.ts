import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { deleteKeys, eventually, startTestHub, type TestHub } from "../helpers/test-hub.ts";
import { behavior, getSession, openSession, postBehavior } from "../sessions/helpers.ts";
import { connectLive, issueToken, refusedUpgrade, type Frame } from "./live-client.ts";

const isPublication = (kind: string) => (frame: Frame): boolean => frame.type === "publication" && (frame["data"] as { kind: string }).kind === kind;

describe("the live gateway", () => {
  let hub: TestHub;
  before(async () => {
    hub = await startTestHub();
  });
  after(() => hub.close());

  it("refuses a missing, forged or expired token, and a wrong subprotocol, with problem+json before the upgrade", async () => {
    const missing = await refusedUpgrade(hub.url, "");
    assert.equal(missing.status, 401);
    assert.match(missing.contentType, /application\/problem\+json/);
    assert.equal((JSON.parse(missing.body) as { code: string }).code, "unauthorized");
    const token = await issueToken(hub, { role: "agent", id: "A-1" });
    const forged = `${token.slice(0, -4)}AAAA`;
    assert.match((await refusedUpgrade(hub.url, `?token=${forged}`)).body, /signature/);
    const wrongProtocol = await refusedUpgrade(hub.url, `?token=${token}`, "chat");
    assert.equal(wrongProtocol.status, 400);
    const bad = await hub.request("/v1/live/tokens", { method: "POST", json: { role: "boss", id: "x" } });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { errors: { pointer: string }[] }).errors[0]?.pointer, "/role");
  });

  it("answers a plain GET /v1/live, without the upgrade, 426 problem+json with Upgrade: websocket", async () => {
    const plain = await fetch(`${hub.url}/v1/live`);
    assert.equal(plain.status, 426);
    assert.equal(plain.headers.get("upgrade"), "websocket");
    assert.match(plain.headers.get("content-type") ?? "", /application\/problem\+json/);
    const problem = (await plain.json()) as { code: string; detail: string };
    assert.equal(problem.code, "upgrade_required");
    assert.match(problem.detail, /kefu\.v1\.json.*\/v1\/live\/sse/);
  });

  it("a visitor's message is ingested, stored with an offset, acked once per clientMessageId and reaches the agent", async () => {
    await openSession(hub, "S-live-1", "C-live-1");
    await eventually(() => getSession(hub, "S-live-1"));
    const agent = await connectLive(hub.url, await issueToken(hub, { role: "agent", id: "A-1" }));
    const visitor = await connectLive(hub.url, await issueToken(hub, { role: "visitor", id: "C-live-1", sessions: ["S-live-1"] }));
    agent.send({ type: "subscribe", channel: "session:S-live-1", ref: "s1" });
    const subscribed = await agent.next((frame) => frame.type === "subscribed");
    assert.equal(subscribed["recovered"], true);
    await agent.next(isPublication("context"));
    visitor.send({ type: "message", sessionId: "S-live-1", text: "where is my parcel?", clientMessageId: "m-1", ref: "r1" });
    const ack = await visitor.next((frame) => frame.type === "ack" && frame["ref"] === "r1");
    const message = await agent.next(isPublication("message"));
    assert.equal(message["offset"], ack["offset"]);
    assert.equal((message["data"] as { text: string }).text, "where is my parcel?");
    visitor.send({ type: "message", sessionId: "S-live-1", text: "where is my parcel?", clientMessageId: "m-1", ref: "r2" });
    const again = await visitor.next((frame) => frame.type === "ack" && frame["ref"] === "r2");
    assert.equal(again["offset"], ack["offset"], "a resend is acked with the first offset");
    await eventually(async () => (await getSession(hub, "S-live-1"))?.messageCount === 1, 5000, "the session to count the message once");
    // Context changes are pushed to the session channel.
    await postBehavior(hub, [behavior("C-live-1", "page.viewed", { url: "/track" })]);
    const context = await agent.next((frame) => isPublication("context")(frame) && ((frame["data"] as { context: { behavior: { latest: { lastPage?: string } } } }).context.behavior.latest.lastPage === "/track"));
    assert.ok(context);
    await Promise.all([agent.close(), visitor.close()]);
  });

  it("resumes with `since`: every publication missed while away is replayed in order", async () => {
    await openSession(hub, "S-live-2", "C-live-2");
    await eventually(() => getSession(hub, "S-live-2"));
    const visitor = await connectLive(hub.url, await issueToken(hub, { role: "visitor", id: "C-live-2", sessions: ["S-live-2"] }));
    visitor.send({ type: "message", sessionId: "S-live-2", text: "first", clientMessageId: "a", ref: "a" });
    const seen = (await visitor.next((frame) => frame.type === "ack" && frame["ref"] === "a"))["offset"] as number;
    for (let i = 0; i < 20; i++) visitor.send({ type: "message", sessionId: "S-live-2", text: `missed ${i}`, clientMessageId: `b${i}`, ref: `b${i}` });
    await visitor.next((frame) => frame.type === "ack" && frame["ref"] === "b19");
    const agent = await connectLive(hub.url, await issueToken(hub, { role: "agent", id: "A-2" }));
    agent.send({ type: "subscribe", channel: "session:S-live-2", since: seen });
    const subscribed = await agent.next((frame) => frame.type === "subscribed");
    assert.equal(subscribed["recovered"], true);
    await agent.next((frame) => isPublication("message")(frame) && (frame["data"] as { text: string }).text === "missed 19");
    const texts = agent.frames.filter(isPublication("message")).map((frame) => (frame["data"] as { text: string }).text);
    assert.deepEqual(texts, Array.from({ length: 20 }, (_, i) => `missed ${i}`));
    const offsets = agent.frames.filter(isPublication("message")).map((frame) => frame["offset"] as number);
    assert.deepEqual(offsets, offsets.slice().sort((a, b) => a - b));
    await Promise.all([agent.close(), visitor.close()]);
  });

  it("answers bad frames with error codes, refuses channels outside the token, and closes 1008 after too many", async () => {
    await openSession(hub, "S-live-3", "C-live-3");
    await eventually(() => getSession(hub, "S-live-3"));
    const visitor = await connectLive(hub.url, await issueToken(hub, { role: "visitor", id: "C-live-3", sessions: ["S-live-3"] }));
    visitor.socket.send("not json");
    assert.equal((await visitor.next((frame) => frame.type === "error"))["code"], "malformed_json");
    visitor.send({ type: "subscribe", channel: "session:S-other", ref: "x" });
    assert.equal((await visitor.next((frame) => frame.type === "error" && frame["ref"] === "x"))["code"], "forbidden");
    visitor.send({ type: "subscribe", channel: "agent:A-1", ref: "y" });
    assert.equal((await visitor.next((frame) => frame.type === "error" && frame["ref"] === "y"))["code"], "forbidden");
    visitor.send({ type: "message", sessionId: "S-live-3", ref: "z" });
    const invalid = await visitor.next((frame) => frame.type === "error" && frame["ref"] === "z");
    assert.equal(invalid["code"], "validation_failed");
    assert.equal((invalid["errors"] as { pointer: string }[])[0]?.pointer, "/text");
    visitor.send({ type: "dance", ref: "d" });
    assert.equal((await visitor.next((frame) => frame.type === "error" && frame["ref"] === "d"))["code"], "validation_failed");
    visitor.socket.send(JSON.stringify({ type: "ping", pad: "x".repeat(70_000) }));
    assert.equal((await visitor.next((frame) => frame.type === "error" && frame["code"] === "payload_too_large")).type, "error");
    visitor.send({ type: "ping", ref: "p" });
    assert.equal((await visitor.next((frame) => frame.type === "pong")).type, "pong");
    for (let i = 0; i < 20; i++) visitor.socket.send("garbage");
    const { code } = await visitor.closed;
    assert.equal(code, 1008);
  });

  it("a message for a closed or unknown session is answered error conflict", async () => {
    const agent = await connectLive(hub.url, await issueToken(hub, { role: "agent", id: "A-3" }));
    agent.send({ type: "message", sessionId: "S-nowhere", text: "hi", clientMessageId: "c", ref: "c" });
    assert.equal((await agent.next((frame) => frame.type === "error" && frame["ref"] === "c"))["code"], "conflict");
    await agent.close();
  });
});

describe("the live gateway across two hub instances", () => {
  it("a visitor on one instance reaches an agent on the other, and the opening event's routing reaches its queue", async () => {
    const a = await startTestHub({}, {}, { keepKeys: true });
    const b = await startTestHub({}, {}, { prefix: a.prefix, keepKeys: true });
    try {
      const agent = await connectLive(b.url, await issueToken(b, { role: "agent", id: "A-9" }));
      agent.send({ type: "subscribe", channel: "queue:general", ref: "q" });
      await agent.next((frame) => frame.type === "subscribed" && frame["ref"] === "q");
      await openSession(a, "S-two-live", "C-two-live");
      const assignment = await agent.next(isPublication("assignment"));
      assert.equal((assignment["data"] as { sessionId: string }).sessionId, "S-two-live");
      await eventually(() => getSession(b, "S-two-live"));
      agent.send({ type: "subscribe", channel: "session:S-two-live", ref: "s" });
      await agent.next((frame) => frame.type === "subscribed" && frame["ref"] === "s");
      const visitor = await connectLive(a.url, await issueToken(a, { role: "visitor", id: "C-two-live", sessions: ["S-two-live"] }));
      visitor.send({ type: "message", sessionId: "S-two-live", text: "hello from A", clientMessageId: "x1" });
      const message = await agent.next(isPublication("message"));
      assert.equal((message["data"] as { text: string }).text, "hello from A");
      await Promise.all([agent.close(), visitor.close()]);
    } finally {
      await b.close();
      await a.close();
      await deleteKeys(a.prefix);
    }
  });

  it("rotates KEFU_LIVE_TOKEN_SECRETS instance by instance: open connections stay, old tokens keep working until the old secret goes", async () => {
    // Rolling out [new, old] (new signs, both verify) while an instance still runs [old].
    const a = await startTestHub({ liveTokenSecrets: ["old-live-token-secret"] }, {}, { keepKeys: true });
    const b = await startTestHub({ liveTokenSecrets: ["new-live-token-secret", "old-live-token-secret"] }, {}, { prefix: a.prefix, keepKeys: true });
    const c = await startTestHub({ liveTokenSecrets: ["new-live-token-secret"] }, {}, { prefix: a.prefix, keepKeys: true });
    try {
      await openSession(a, "S-rotate", "C-rotate");
      await eventually(() => getSession(b, "S-rotate"));
      const oldToken = await issueToken(a, { role: "agent", id: "A-rotate" });
      const newToken = await issueToken(b, { role: "visitor", id: "C-rotate", sessions: ["S-rotate"] });
      const agent = await connectLive(a.url, oldToken);
      agent.send({ type: "subscribe", channel: "session:S-rotate", ref: "s" });
      await agent.next((frame) => frame.type === "subscribed" && frame["ref"] === "s");

      // b verifies both: a token of the old secret and one of the new.
      const oldOnB = await connectLive(b.url, oldToken);
      const visitor = await connectLive(b.url, newToken);
      visitor.send({ type: "message", sessionId: "S-rotate", text: "signed with the new secret", clientMessageId: "r1" });
      const message = await agent.next(isPublication("message"));
      assert.equal((message["data"] as { text: string }).text, "signed with the new secret", "the connection opened before the rotation still gets publications");

      // Not yet rolled out on a: the new token is refused there, which is why the old secret stays
      // on every instance until the new one verifies everywhere.
      assert.equal((await refusedUpgrade(a.url, `?token=${newToken}`)).status, 401);
      // Once the old secret is removed (c), its tokens are refused; open connections are never re-checked.
      const refused = await refusedUpgrade(c.url, `?token=${oldToken}`);
      assert.equal(refused.status, 401);
      assert.match(refused.body, /signature/);
      assert.equal(agent.socket.readyState, agent.socket.OPEN);
      await Promise.all([agent.close(), oldOnB.close(), visitor.close()]);
    } finally {
      await c.close();
      await b.close();
      await a.close();
      await deleteKeys(a.prefix);
    }
  });
});
