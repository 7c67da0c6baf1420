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
