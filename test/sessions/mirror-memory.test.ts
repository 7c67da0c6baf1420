import assert from "node:assert/strict";
import { test } from "node:test";
import { createSessionMirror } from "../../src/sessions/session-mirror.ts";

// The mirror's /godmode report is a running total (issue 15): it must follow opens, updates,
// closes and drops exactly, since nothing recounts it.
test("the session mirror's byte total follows opens, updates, closes and drops", () => {
  const mirror = createSessionMirror();
  const put = (sessionId: string, state: "open" | "closed", version: number, contextJson: string): boolean =>
    mirror.put({ sessionId, customerId: `C-${sessionId}`, state, version, body: contextJson });
  const report = (): { entries: number; bytes: number } => mirror.memoryReport().find((store) => store.store === "session mirror") ?? { entries: -1, bytes: -1 };
  assert.deepEqual([report().entries, report().bytes], [0, 0]);
  put("S-1", "open", 1, "x".repeat(1000));
  const one = report().bytes;
  assert.ok(one > 1000);
  put("S-2", "open", 1, "x".repeat(1000));
  assert.equal(report().bytes, one * 2);
  put("S-1", "open", 2, "x".repeat(3000));
  assert.equal(report().bytes, one * 2 + 2000, "an update replaces, not adds");
  put("S-1", "open", 2, "x".repeat(9000));
  assert.equal(report().bytes, one * 2 + 2000, "an ignored (older) version changes nothing");
  put("S-1", "closed", 3, "{}");
  assert.equal(report().bytes, one);
  mirror.drop("S-2");
  assert.deepEqual([report().entries, report().bytes], [0, 0]);
  const filter = mirror.memoryReport().find((store) => store.store === "Bloom filter (customers)");
  assert.ok(filter && filter.bytes >= 1024 && !filter.estimated);
});

const contextOf = (sessionId: string, version: number): string =>
  JSON.stringify({ sessionId, state: "open", channel: "web", customer: { id: `C-${sessionId}`, profile: { tier: "gold" } }, behavior: { recent: [{ id: `bev-${version}`, type: "page.viewed", data: { url: "https://shop.example/p/1" } }] }, version });

test("an idle session is packed, answered byte for byte when read again, and counted at its packed size", () => {
  const mirror = createSessionMirror();
  const report = (): number => mirror.memoryReport().find((store) => store.store === "session mirror")?.bytes ?? -1;
  const changes: number[] = [];
  mirror.listen("S-1", (session) => changes.push(session.version));
  mirror.put({ sessionId: "S-1", customerId: "C-S-1", state: "open", version: 1, body: contextOf("S-1", 1) });
  const asBytes = report();
  // A change counts as a use: the first pass only takes that away, the second packs.
  assert.equal(mirror.packIdle(10, 10), 0);
  assert.equal(mirror.packIdle(10, 10), 1);
  assert.ok(report() < asBytes, `packed ${report()} B, as bytes ${asBytes} B`);
  assert.equal(mirror.versionOf("S-1"), 1);
  assert.equal(mirror.has("S-1"), true);
  assert.ok(report() < asBytes, "versionOf and has do not unpack");
  assert.equal(mirror.get("S-1")?.body.toString(), contextOf("S-1", 1));
  assert.equal(report(), asBytes, "a read keeps it as bytes again");
  assert.equal(mirror.packIdle(10, 10), 0, "just read: a second chance");
  assert.equal(mirror.packIdle(10, 10), 1);
  mirror.put({ sessionId: "S-1", customerId: "C-S-1", state: "open", version: 2, body: contextOf("S-1", 2) });
  assert.equal(mirror.get("S-1")?.body.toString(), contextOf("S-1", 2), "a newer version replaces a packed one");
  assert.deepEqual(changes, [1, 2]);
});

test("sessions loaded idle start packed, a pass is spread over calls, and a drop of a packed session tells its listeners", () => {
  const mirror = createSessionMirror();
  for (let i = 0; i < 50; i++) mirror.put({ sessionId: `S-${i}`, customerId: `C-${i}`, state: "open", version: 1, body: contextOf(`S-${i}`, 1), idle: i < 25 });
  // Sessions 25–49 were changed (used); the first call walks 10 of them, the next ones go on from there.
  let packed = 0;
  for (let call = 0; call < 10; call++) packed += mirror.packIdle(10, 100);
  assert.equal(packed, 25, "each of the 25 as bytes packed once, after its second chance");
  for (let i = 0; i < 50; i++) assert.equal(mirror.get(`S-${i}`)?.body.toString(), contextOf(`S-${i}`, 1));
  assert.equal(mirror.packIdle(100, 3), 0, "every one was just read");
  assert.equal(mirror.packIdle(100, 3), 3, "at most `pack` per call");
  const told: { version: number; state: string; body: string }[] = [];
  mirror.listen("S-0", (session, state) => told.push({ version: session.version, state, body: session.body.toString() }));
  for (let i = 0; i < 2; i++) mirror.packIdle(100, 100);
  mirror.drop("S-0");
  assert.deepEqual(told, [{ version: 1, state: "closed", body: contextOf("S-0", 1) }]);
  assert.equal(mirror.has("S-0"), false);
});

test("a context larger than the packer's window comes back byte for byte", () => {
  const mirror = createSessionMirror();
  // Behaviour events may carry up to 64 KB of data each: far past deflate's 4 KB window.
  const big = JSON.stringify({ sessionId: "S-big", state: "open", behavior: { recent: Array.from({ length: 40 }, (_, i) => ({ id: `bev-${i}`, data: { note: `${i}-`.repeat(900) } })) } });
  mirror.put({ sessionId: "S-big", customerId: "C-big", state: "open", version: 1, body: big, idle: true });
  const body = mirror.get("S-big")?.body;
  assert.equal(body?.length, Buffer.byteLength(big));
  assert.equal(body?.toString(), big);
});
