import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { createHttpSender, type HttpSender, type WebhookResponse } from "../../src/delivery/http-sender.ts";
import { createSsrfGuard } from "../../src/delivery/ssrf-guard.ts";
import { settleWithin } from "../../src/resilience/timeout.ts";
import { eventually } from "../helpers/test-hub.ts";
import { startReceiver, type Answer, type Receiver } from "./receiver.ts";

const guard = createSsrfGuard({ allowCidrs: ["127.0.0.0/8"] });
const receivers: Receiver[] = [];
after(async () => {
  await Promise.all(receivers.map((r) => r.close()));
});

async function receiver(answer?: () => Answer | Promise<Answer>): Promise<Receiver> {
  const started = await startReceiver(answer);
  receivers.push(started);
  return started;
}

function post(sender: HttpSender, to: Receiver): Promise<WebhookResponse> {
  return sender.send({ url: new URL(`${to.url}/hook`), headers: { "content-type": "application/json" }, body: "{}" });
}

/** A receiver that holds its answers until `release` is called. */
async function holdingReceiver(): Promise<Receiver & { release: () => void }> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const held = await receiver(async () => {
    await gate;
    return { status: 204 };
  });
  return Object.assign(held, { release });
}

const openTotal = (list: readonly Receiver[]): number => list.reduce((sum, r) => sum + r.openConnections(), 0);

test("past maxOrigins the least recently used origin's pool is closed, so its connections go and the pools stay at the bound", async () => {
  const origins = await Promise.all(Array.from({ length: 5 }, () => receiver()));
  const sender = createHttpSender({ guard, timeoutMs: 2000, maxOrigins: 2, idleMs: 0 });
  try {
    const [first, second, third] = origins as [Receiver, Receiver, Receiver, ...Receiver[]];
    assert.equal((await post(sender, first)).statusCode, 204);
    assert.equal((await post(sender, second)).statusCode, 204);
    assert.equal((await post(sender, first)).statusCode, 204, "first is now the most recently used");
    assert.deepEqual([first.openConnections(), second.openConnections()], [1, 1], "keep-alive connections");
    assert.equal((await post(sender, third)).statusCode, 204);
    await eventually(() => second.openConnections() === 0, 5000, "the evicted pool's connection to close");
    assert.equal(first.openConnections(), 1, "the recently used one is kept");

    for (const origin of origins.slice(3)) assert.equal((await post(sender, origin)).statusCode, 204);
    await eventually(() => openTotal(origins) === 2, 5000, "two origins' connections, no more");
    assert.deepEqual(
      origins.map((r) => r.openConnections()),
      [0, 0, 0, 1, 1],
    );
    // An evicted origin is simply new again.
    assert.equal((await post(sender, first)).statusCode, 204);
    assert.equal(first.connections(), 2);
  } finally {
    await sender.close();
  }
});

test("a request in flight to an evicted origin still gets its answer; the pool closes after it", async () => {
  const slow = await holdingReceiver();
  const other = await receiver();
  const sender = createHttpSender({ guard, timeoutMs: 5000, maxOrigins: 1, idleMs: 0 });
  try {
    const inFlight = post(sender, slow);
    await eventually(() => slow.received.length === 1, 5000, "the request to reach the slow receiver");
    assert.equal((await post(sender, other)).statusCode, 204, "evicts the slow origin's pool");
    slow.release();
    const answer = await inFlight;
    assert.equal(answer.statusCode, 204, answer.error);
    assert.equal(answer.ok, true);
    await eventually(() => slow.openConnections() === 0, 5000, "the evicted pool to close once its request is done");
    assert.equal(other.openConnections(), 1);
  } finally {
    await sender.close();
  }
});

test("an origin not used for idleMs is closed when the next new origin comes", async () => {
  let now = 1_000_000;
  const idle = await receiver();
  const busy = await receiver();
  const later = await receiver();
  const sender = createHttpSender({ guard, timeoutMs: 2000, maxOrigins: 100, idleMs: 60_000, now: () => now });
  try {
    assert.equal((await post(sender, idle)).statusCode, 204);
    now += 30_000;
    assert.equal((await post(sender, busy)).statusCode, 204);
    now += 31_000; // idle: 61 s unused; busy: 31 s
    assert.equal((await post(sender, later)).statusCode, 204);
    await eventually(() => idle.openConnections() === 0, 5000, "the idle pool to close");
    assert.deepEqual([busy.openConnections(), later.openConnections()], [1, 1]);
  } finally {
    await sender.close();
  }
});

test("close destroys every pool, also one still finishing after its eviction, and later sends are refused", async () => {
  const slow = await holdingReceiver();
  const other = await receiver();
  // A request timeout far beyond the test's patience: only the destroy can end the held request.
  const sender = createHttpSender({ guard, timeoutMs: 120_000, maxOrigins: 1, idleMs: 0 });
  const inFlight = post(sender, slow);
  await eventually(() => slow.received.length === 1, 5000, "the request to reach the slow receiver");
  assert.equal((await post(sender, other)).statusCode, 204);
  await sender.close();
  const settled = await settleWithin(inFlight, 5000);
  assert.equal(settled.status, "fulfilled", "the held request was cut by the close");
  const cut = (settled as { value: WebhookResponse }).value;
  assert.equal(cut.ok, false);
  assert.equal(cut.transportFailure, true, "the shutdown's grace period is over: it is not waited for");
  await eventually(() => openTotal([slow, other]) === 0, 5000, "every connection closed");
  const refused = await post(sender, other);
  assert.deepEqual([refused.ok, refused.error], [false, "the sender is closed"]);
  assert.equal(other.connections(), 1, "no new connection after close");
  await sender.close();
  slow.release();
});

/** A server on loopback answering every request with `handle`; closed after the file. */
async function rawServer(handle: (res: ServerResponse) => void): Promise<URL> {
  const server = createServer((req, res) => {
    req.resume();
    req.once("end", () => handle(res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
}

test("the answer's body is kept to its first 4 KB: a short or empty one whole, a long one cut, however it is framed", async () => {
  const sender = createHttpSender({ guard, timeoutMs: 5000 });
  after(() => sender.close());
  const sendTo = (url: URL) => sender.send({ url, headers: { "content-type": "application/json" }, body: "{}" });
  const short = await sendTo(await rawServer((res) => res.writeHead(200, { "content-length": 5 }).end("fine!")));
  assert.deepEqual([short.ok, short.body], [true, "fine!"]);
  const empty = await sendTo(await rawServer((res) => res.writeHead(204).end()));
  assert.deepEqual([empty.ok, empty.statusCode, empty.body], [true, 204, ""]);
  // Chunked, no length: read as a stream, kept to 4,096 characters, the rest drained or dropped.
  const long = await sendTo(await rawServer((res) => {
    res.writeHead(500);
    for (let i = 0; i < 20; i++) res.write("x".repeat(10_000));
    res.end();
  }));
  assert.deepEqual([long.ok, long.statusCode, long.body?.length], [false, 500, 4096]);
});

test("an exchange that outlasts timeoutMs fails as a transport failure, a body that trickles too, and the sender goes on", async () => {
  const sender = createHttpSender({ guard, timeoutMs: 300 });
  after(() => sender.close());
  const sendTo = (url: URL) => sender.send({ url, headers: { "content-type": "application/json" }, body: "{}" });
  const silent = await sendTo(await rawServer(() => undefined));
  assert.deepEqual([silent.ok, silent.transportFailure, silent.error], [false, true, "no answer within 300 ms"]);
  // Headers at once, then a byte every 100 ms, never ending: each wait is short, the whole is not.
  const trickle = await sendTo(await rawServer((res) => {
    res.writeHead(200);
    const drip = setInterval(() => (res.destroyed ? clearInterval(drip) : res.write(".")), 100);
  }));
  assert.deepEqual([trickle.ok, trickle.transportFailure, trickle.error], [false, true, "no answer within 300 ms"]);
  const after300 = await sendTo(await rawServer((res) => res.writeHead(200, { "content-length": 2 }).end("ok")));
  assert.deepEqual([after300.ok, after300.body], [true, "ok"]);
});
