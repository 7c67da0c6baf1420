import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { eventually } from "../helpers/test-hub.ts";

// clients/browser/kefu-live.js against a scripted socket: what it does on each close code, what
// it resubscribes with, what it resends. The real hub and a real browser drive it in
// test/e2e/live-demo.test.ts.

interface Frame {
  type: string;
  [key: string]: unknown;
}

class FakeSocket {
  static instances: FakeSocket[] = [];
  readyState = 0;
  sent: Frame[] = [];
  onopen?: () => void;
  onmessage?: (event: { data: string }) => void;
  onclose?: (event: { code: number; reason: string }) => void;
  readonly url: string;
  readonly protocol: string;
  constructor(url: string, protocol: string) {
    this.url = url;
    this.protocol = protocol;
    FakeSocket.instances.push(this);
  }
  send(text: string): void {
    this.sent.push(JSON.parse(text) as Frame);
  }
  close(): void {
    this.readyState = 3;
  }
  // What the "server" does:
  open(): void {
    this.readyState = 1;
    this.onopen?.();
  }
  deliver(frame: Frame): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: "" });
  }
}

interface Publication {
  channel: string;
  offset: number;
  data: { kind: string };
}
interface KefuLiveClient {
  connect(): void;
  close(): void;
  subscribe(channel: string, onPublication: (p: Publication) => void, options?: { since?: number; onReset?: (info: { reason: string; offset: number }) => void }): () => void;
  sendMessage(sessionId: string, text: string, options?: { clientMessageId?: string }): Promise<{ offset: number; clientMessageId: string }>;
}
type KefuLiveClass = new (options: Record<string, unknown>) => KefuLiveClient;

const clientModule = new URL("../../clients/browser/kefu-live.js", import.meta.url).href;
const { KefuLive } = (await import(clientModule)) as { KefuLive: KefuLiveClass };

const socketNumber = async (n: number): Promise<FakeSocket> => eventually(() => FakeSocket.instances[n - 1], 2000, `socket #${n}`);
const message = (channel: string, offset: number): Frame => ({ type: "publication", channel, offset, data: { kind: "message", text: `m${offset}` } });

describe("the browser client (clients/browser/kefu-live.js)", () => {
  let live: KefuLiveClient | undefined;
  const start = (options: Record<string, unknown> = {}): KefuLiveClient => {
    FakeSocket.instances = [];
    live = new KefuLive({ url: "ws://hub.test/v1/live", token: "t0ken", WebSocketImpl: FakeSocket, initialBackoffMs: 10_000, heartbeatMs: 60_000, ...options });
    live.connect();
    return live;
  };
  afterEach(() => live?.close());

  it("connects with the token and subprotocol, resubscribes with since after a reconnect (at once after 1012), and drops what it already delivered", async () => {
    const client = start();
    const first = await socketNumber(1);
    assert.equal(first.protocol, "kefu.v1.json");
    assert.equal(new URL(first.url).searchParams.get("token"), "t0ken");
    first.open();
    const seen: number[] = [];
    client.subscribe("session:S-1", (p) => seen.push(p.offset), { since: 0 });
    assert.deepEqual(first.sent.at(-1), { type: "subscribe", channel: "session:S-1", since: 0 });
    first.deliver({ type: "subscribed", channel: "session:S-1", offset: 2, epoch: "e1", recovered: true });
    first.deliver(message("session:S-1", 1));
    first.deliver(message("session:S-1", 2));

    first.drop(1012);
    const second = await socketNumber(2); // with a 10 s backoff, only the 1012 rule explains this
    second.open();
    assert.deepEqual(second.sent.at(-1), { type: "subscribe", channel: "session:S-1", since: 2 });
    second.deliver({ type: "subscribed", channel: "session:S-1", offset: 3, epoch: "e1", recovered: true });
    second.deliver(message("session:S-1", 2));
    second.deliver(message("session:S-1", 3));
    second.deliver({ type: "publication", channel: "session:S-1", offset: 3, data: { kind: "context" } });
    assert.deepEqual(seen, [1, 2, 3, 3], "2 once; the context publication (outside the sequence) passes");

    second.drop(1006);
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(FakeSocket.instances.length, 2, "other close codes wait for the backoff");
  });

  it("resends a message with the same clientMessageId until it is acked, and not after", async () => {
    const client = start({ ackTimeoutMs: 200 });
    const first = await socketNumber(1);
    const sent = client.sendMessage("S-1", "hello");
    first.open();
    const frame = await eventually(() => first.sent.find((f) => f.type === "message"), 1000, "the message frame");
    assert.equal(frame["text"], "hello");
    assert.equal(typeof frame["clientMessageId"], "string");
    await eventually(() => first.sent.filter((f) => f.type === "message").length >= 2, 2000, "a resend after the ack timeout");
    first.drop(1012);
    const second = await socketNumber(2);
    second.open();
    const again = second.sent.find((f) => f.type === "message");
    assert.equal(again?.["clientMessageId"], frame["clientMessageId"], "resent after the reconnect, with the same id");
    second.deliver({ type: "ack", ref: again?.["ref"], offset: 7 });
    assert.deepEqual(await sent, { offset: 7, clientMessageId: frame["clientMessageId"] });
    const count = second.sent.length;
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(second.sent.filter((f) => f.type === "message").length, second.sent.slice(0, count).filter((f) => f.type === "message").length, "no resend once acked");

    const refused = client.sendMessage("S-other", "not mine");
    const refusedFrame = await eventually(() => second.sent.find((f) => f.type === "message" && f["sessionId"] === "S-other"), 1000, "the second message");
    second.deliver({ type: "error", ref: refusedFrame["ref"], code: "forbidden", detail: "this token may not touch session S-other" });
    await assert.rejects(refused, /may not touch/);
  });

  it("calls onReset when the hub cannot replay (recovered: false) and when the epoch changed", async () => {
    const client = start();
    const first = await socketNumber(1);
    first.open();
    const resets: { reason: string; offset: number }[] = [];
    client.subscribe("session:S-2", () => undefined, { since: 5, onReset: (info) => resets.push(info) });
    first.deliver({ type: "subscribed", channel: "session:S-2", offset: 1200, epoch: "e1", recovered: false });
    assert.deepEqual(resets.map(({ reason, offset }) => ({ reason, offset })), [{ reason: "history", offset: 1200 }]);
    first.drop(1012);
    const second = await socketNumber(2);
    second.open();
    assert.deepEqual(second.sent.at(-1), { type: "subscribe", channel: "session:S-2", since: 1200 }, "resumes from where the reset left it");
    second.deliver({ type: "subscribed", channel: "session:S-2", offset: 3, epoch: "e2", recovered: true });
    assert.equal(resets.at(-1)?.reason, "epoch");
  });
});
