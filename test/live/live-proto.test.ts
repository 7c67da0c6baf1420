import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually, startTestHub, type TestHub } from "../helpers/test-hub.ts";
import { getSession, openSession } from "../sessions/helpers.ts";
import { connectLive, issueToken, type Frame } from "./live-client.ts";
import { ClientFrame } from "./proto-frames.ts";

const isPublication = (kind: string) => (frame: Frame): boolean => frame.type === "publication" && (frame["data"] as { kind: string }).kind === kind;
const isError = (ref: string) => (frame: Frame): boolean => frame.type === "error" && frame["ref"] === ref;

describe("the live gateway over kefu.v1.proto", () => {
  let hub: TestHub;
  before(async () => {
    hub = await startTestHub();
  });
  after(() => hub.close());

  it("a proto visitor subscribes, sends a message, is acked and receives it; a resend is acked with the same offset", async () => {
    await openSession(hub, "S-proto-1", "C-proto-1");
    await eventually(() => getSession(hub, "S-proto-1"));
    const visitor = await connectLive(hub.url, await issueToken(hub, { role: "visitor", id: "C-proto-1", sessions: ["S-proto-1"] }), "proto");
    assert.equal(visitor.socket.protocol, "kefu.v1.proto");
    visitor.send({ type: "subscribe", channel: "session:S-proto-1", ref: "s" });
    const subscribed = await visitor.next((frame) => frame.type === "subscribed" && frame["ref"] === "s");
    assert.equal(subscribed["recovered"], true);
    await visitor.next(isPublication("context"));
    visitor.send({ type: "message", sessionId: "S-proto-1", text: "你好, where is my parcel?", clientMessageId: "m-1", ref: "r1" });
    const ack = await visitor.next((frame) => frame.type === "ack" && frame["ref"] === "r1");
    const message = await visitor.next(isPublication("message"));
    assert.equal(message["offset"], ack["offset"]);
    assert.equal((message["data"] as { text: string }).text, "你好, where is my parcel?");
    visitor.send({ type: "message", sessionId: "S-proto-1", text: "你好, where is my parcel?", clientMessageId: "m-1", ref: "r2" });
    assert.equal((await visitor.next((frame) => frame.type === "ack" && frame["ref"] === "r2"))["offset"], ack["offset"]);
    visitor.send({ type: "ping", ref: "p" });
    assert.equal((await visitor.next((frame) => frame.type === "pong"))["ref"], "p");
    await visitor.close();
  });

  it("JSON and proto subscribers of one channel both receive every publication, each in its own encoding", async () => {
    await openSession(hub, "S-proto-2", "C-proto-2");
    await eventually(() => getSession(hub, "S-proto-2"));
    const token = await issueToken(hub, { role: "agent", id: "A-proto" });
    const [json, proto] = await Promise.all([connectLive(hub.url, token, "json"), connectLive(hub.url, token, "proto")]);
    for (const client of [json, proto]) {
      client.send({ type: "subscribe", channel: "session:S-proto-2", ref: "s" });
      await client.next((frame) => frame.type === "subscribed");
    }
    const visitor = await connectLive(hub.url, await issueToken(hub, { role: "visitor", id: "C-proto-2", sessions: ["S-proto-2"] }), "proto");
    for (let i = 0; i < 5; i++) visitor.send({ type: "message", sessionId: "S-proto-2", text: `m${i}`, clientMessageId: `m${i}`, ref: `m${i}` });
    visitor.send({ type: "typing", sessionId: "S-proto-2" });
    await visitor.next((frame) => frame.type === "ack" && frame["ref"] === "m4");
    for (const client of [json, proto]) {
      await client.next(isPublication("typing"));
      await client.next((frame) => isPublication("message")(frame) && (frame["data"] as { text: string }).text === "m4");
    }
    const messages = (client: typeof json): unknown[] => client.frames.filter(isPublication("message")).map((frame) => [frame["offset"], frame["data"]]);
    assert.equal(messages(json).length, 5);
    assert.deepEqual(messages(proto), messages(json), "the same publications, offsets and data in both encodings");
    await Promise.all([json.close(), proto.close(), visitor.close()]);
  });

  it("resumes with `since`: what was missed is replayed in order", async () => {
    await openSession(hub, "S-proto-3", "C-proto-3");
    await eventually(() => getSession(hub, "S-proto-3"));
    const visitor = await connectLive(hub.url, await issueToken(hub, { role: "visitor", id: "C-proto-3", sessions: ["S-proto-3"] }), "proto");
    visitor.send({ type: "message", sessionId: "S-proto-3", text: "first", clientMessageId: "a", ref: "a" });
    const seen = (await visitor.next((frame) => frame.type === "ack" && frame["ref"] === "a"))["offset"] as number;
    for (let i = 0; i < 20; i++) visitor.send({ type: "message", sessionId: "S-proto-3", text: `missed ${i}`, clientMessageId: `b${i}`, ref: `b${i}` });
    await visitor.next((frame) => frame.type === "ack" && frame["ref"] === "b19");
    const agent = await connectLive(hub.url, await issueToken(hub, { role: "agent", id: "A-proto-3" }), "proto");
    agent.send({ type: "subscribe", channel: "session:S-proto-3", since: seen });
    assert.equal((await agent.next((frame) => frame.type === "subscribed"))["recovered"], true);
    await agent.next((frame) => isPublication("message")(frame) && (frame["data"] as { text: string }).text === "missed 19");
    const replayed = agent.frames.filter(isPublication("message"));
    assert.deepEqual(replayed.map((frame) => (frame["data"] as { text: string }).text), Array.from({ length: 20 }, (_, i) => `missed ${i}`));
    assert.deepEqual(replayed.map((frame) => frame["offset"]), Array.from({ length: 20 }, (_, i) => seen + 1 + i));
    await Promise.all([agent.close(), visitor.close()]);
  });

  it("validates proto frames as strictly as JSON ones: same codes, the failing field named", async () => {
    await openSession(hub, "S-proto-4", "C-proto-4");
    await eventually(() => getSession(hub, "S-proto-4"));
    const visitor = await connectLive(hub.url, await issueToken(hub, { role: "visitor", id: "C-proto-4", sessions: ["S-proto-4"] }), "proto");
    // A missing field is missing (explicit presence), not "".
    visitor.send({ type: "message", sessionId: "S-proto-4", clientMessageId: "c", ref: "no-text" });
    const missing = await visitor.next(isError("no-text"));
    assert.equal(missing["code"], "validation_failed");
    assert.deepEqual((missing["errors"] as { pointer: string }[]).map((e) => e.pointer), ["/text"]);
    // The JSON schema's limits hold: an empty text, a channel of no known kind.
    visitor.send({ type: "message", sessionId: "S-proto-4", text: "", clientMessageId: "c", ref: "empty" });
    assert.equal(((await visitor.next(isError("empty")))["errors"] as { pointer: string }[])[0]?.pointer, "/text");
    visitor.send({ type: "subscribe", channel: "room:1", ref: "room" });
    assert.equal(((await visitor.next(isError("room")))["errors"] as { pointer: string }[])[0]?.pointer, "/channel");
    visitor.send({ type: "subscribe", channel: "session:S-other", ref: "other" });
    assert.equal((await visitor.next(isError("other")))["code"], "forbidden");
    // No frame set in the oneof: a frame of no known type, as {"type":"dance"} is over JSON.
    visitor.socket.send(ClientFrame.encode({ ref: "none" }).finish());
    const untyped = await visitor.next(isError("none"));
    assert.equal(untyped["code"], "validation_failed");
    assert.equal((untyped["errors"] as { pointer: string }[])[0]?.pointer, "/type");
    // Fields the .proto does not define are refused, as additionalProperties are over JSON.
    const ping = ClientFrame.encode({ ping: {} }).finish();
    visitor.socket.send(Buffer.concat([ping, Buffer.from([0xf8, 0x01, 0x01])]));
    assert.match(String((await visitor.next((frame) => frame.type === "error" && /does not define/.test(String(frame["detail"]))))["code"]), /validation_failed/);
    visitor.socket.send(Buffer.from([0xff, 0xff, 0xff]));
    assert.equal((await visitor.next((frame) => frame.type === "error" && /not a kefu.v1.proto ClientFrame/.test(String(frame["detail"]))))["code"], "validation_failed");
    visitor.socket.send("{\"type\":\"ping\"}");
    assert.equal((await visitor.next((frame) => frame.type === "error" && frame["code"] === "unsupported_media_type")).type, "error");
    visitor.socket.send(Buffer.concat([ping, Buffer.alloc(70_000)]));
    assert.equal((await visitor.next((frame) => frame.type === "error" && frame["code"] === "payload_too_large")).type, "error");
    visitor.send({ type: "message", sessionId: "S-nowhere", text: "hi", clientMessageId: "c", ref: "closed" });
    assert.equal((await visitor.next(isError("closed")))["code"], "forbidden");
    await visitor.close();
  });
});
