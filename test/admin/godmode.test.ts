import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { MemorySnapshot } from "../../src/observability/memory-feed.ts";
import { startTestHubWithDemo, type TestHubWithDemo } from "../helpers/test-hub-with-demo.ts";
import { startTestHub } from "../helpers/test-hub.ts";
import { getPage, signIn } from "./admin-client.ts";

// /godmode's stream over real HTTP (issue 15 item 3): behind the session, one snapshot a second
// with the process, V8's spaces, every isolate, every module's stores, GC and loop delay.
let hub: TestHubWithDemo;

before(async () => {
  // With the demo business system, so that context parts load and fill the cache.
  hub = await startTestHubWithDemo();
});
after(() => hub?.close());

/** Reads Server-Sent Events from `path` until `until` says stop (or the stream ends). */
async function readEvents(path: string, cookie: string | undefined, until: (events: { event: string; data: string }[]) => boolean): Promise<{ status: number; events: { event: string; data: string }[]; contentType: string }> {
  const controller = new AbortController();
  const response = await fetch(hub.url + path, { headers: { accept: "text/event-stream", ...(cookie ? { cookie } : {}) }, signal: controller.signal });
  const events: { event: string; data: string }[] = [];
  const contentType = response.headers.get("content-type") ?? "";
  if (!response.ok || !response.body) return { status: response.status, events, contentType };
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = /^data: (.*)$/m.exec(block)?.[1] ?? "";
        events.push({ event, data });
      }
      if (until(events)) break;
    }
  } finally {
    controller.abort();
  }
  return { status: response.status, events, contentType };
}

test("without a session: the page redirects to the sign-in, the stream is 401 problem+json", async () => {
  const page = await getPage(hub, "/godmode");
  assert.equal(page.status, 303);
  assert.equal(page.headers.get("location"), "/admin?next=%2Fgodmode");
  const stream = await readEvents("/godmode/stream", undefined, () => true);
  assert.equal(stream.status, 401);
  assert.match(stream.contentType, /^application\/problem\+json/);
  const read = await fetch(`${hub.url}/godmode/stream`, { headers: { authorization: "Bearer test-admin-key-0001" } });
  assert.equal(read.status, 401, "a bearer key is not a session");
  await read.body?.cancel();
});

test("signed in: the page, its local chart library, and a snapshot a second that moves", { timeout: 30_000 }, async () => {
  const { cookie } = await signIn(hub);
  const page = await getPage(hub, "/godmode", cookie);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'self'/);
  assert.match(await page.text(), /<script src="\/godmode\/lib\/d3-hierarchy\.min\.js"><\/script>/);
  const library = await getPage(hub, "/godmode/lib/d3-hierarchy.min.js", cookie);
  assert.equal(library.status, 200);
  assert.match(await library.text(), /treemap/);

  const { events, contentType } = await readEvents("/godmode/stream", cookie, (got) => got.filter((e) => e.event === "memory").length >= 3);
  assert.match(contentType, /^text\/event-stream/);
  const snapshots = events.filter((e) => e.event === "memory").map((e) => JSON.parse(e.data) as MemorySnapshot);
  assert.equal(snapshots.length, 3);
  const [first, , last] = snapshots as [MemorySnapshot, MemorySnapshot, MemorySnapshot];
  assert.ok(Date.parse(last.at) - Date.parse(first.at) >= 1500, "about a second apart");
  assert.ok(first.process.rssBytes > 10e6 && first.process.heapUsedBytes > 1e6);
  assert.ok(first.heapSpaces.some((space) => space.space === "old_space" && space.usedBytes > 0));
  assert.notDeepEqual([first.process.heapUsedBytes, first.process.rssBytes], [last.process.heapUsedBytes, last.process.rssBytes], "the numbers move");
  // The later snapshots measured a whole interval of the event loop.
  assert.ok(last.eventLoop.p99Ms > 0 && last.eventLoop.maxMs >= last.eventLoop.p50Ms);
  assert.equal(typeof last.gc.count, "number");

  assert.ok(!("error" in last.plugins), JSON.stringify(last.plugins));
  if ("error" in last.plugins) return;
  assert.ok(last.plugins.rssBytes > 10e6 && last.plugins.pid !== process.pid, "the runner is a process of its own");
  const isolates = last.plugins.isolates.map((isolate) => isolate.plugin).sort();
  assert.deepEqual(isolates, hub.hub.plugins.list().filter((p) => p.state === "ready").map((p) => p.name).sort(), "every loaded plugin's isolate");
  for (const isolate of last.plugins.isolates) assert.ok("usedHeapBytes" in isolate && isolate.usedHeapBytes > 0 && isolate.limitBytes >= isolate.totalHeapBytes);

  const stores = new Map(last.stores.map((store) => [store.store, store]));
  for (const name of ["order-context cache", "plugin breakers", "session mirror", "Bloom filter (customers)", "receiver pools", "receiver breakers", "live connections", "live send buffers"]) {
    assert.ok(stores.has(name), `${name} in ${[...stores.keys()].join(", ")}`);
  }
  assert.ok((stores.get("Bloom filter (customers)")?.bytes ?? 0) > 0, "the filter's bits are counted even when empty");
});

test("the order-context cache's count and size grow with what it holds", { timeout: 30_000 }, async () => {
  const { cookie } = await signIn(hub);
  const cacheOf = async (): Promise<{ entries: number; bytes: number }> => {
    const { events } = await readEvents("/godmode/stream", cookie, (got) => got.some((e) => e.event === "memory"));
    const snapshot = JSON.parse(events.find((e) => e.event === "memory")?.data ?? "{}") as MemorySnapshot;
    const cache = snapshot.stores.find((store) => store.store === "order-context cache");
    assert.ok(cache);
    return cache;
  };
  const before = await cacheOf();
  assert.equal((await hub.request("/v1/orders/SO-100003/context")).status, 200);
  const after = await cacheOf();
  assert.ok(after.entries > before.entries && after.bytes > before.bytes, `${JSON.stringify(before)} → ${JSON.stringify(after)}`);
});

test("a stream ends when its session expires", { timeout: 30_000 }, async () => {
  const brief = await startTestHub({ adminSessionTtlSeconds: 2 });
  try {
    const { cookie } = await signIn(brief);
    const response = await fetch(`${brief.url}/godmode/stream`, { headers: { cookie } });
    assert.equal(response.status, 200);
    const text = await response.text(); // ends when the hub ends the stream
    assert.match(text, /event: memory/);
    assert.match(text, /event: expired\n/);
  } finally {
    await brief.close();
  }
});

// Last in this file: it starts the shared hub's shutdown.
test("shutdown ends an open /godmode stream instead of waiting out the grace period on it", { timeout: 30_000 }, async () => {
  const { cookie } = await signIn(hub);
  const response = await fetch(`${hub.url}/godmode/stream`, { headers: { cookie } });
  assert.equal(response.status, 200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("event: memory")) {
    const { value, done } = await reader.read();
    assert.equal(done, false, "the stream ended before its first snapshot");
    text += decoder.decode(value, { stream: true });
  }
  hub.hub.startDraining();
  // Ends by itself: without it this read would wait as long as the tab stayed open.
  for (;;) if ((await reader.read()).done) break;
});
