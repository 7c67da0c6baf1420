import assert from "node:assert/strict";
import { test } from "node:test";
import { getHeapStatistics } from "node:v8";
import { runInNewContext } from "node:vm";
import { boundHeapGrowth, releaseFreedHeap } from "../../src/release-freed-heap.ts";

test("releasing the freed heap gives pooled pages back and leaves no gc function behind", () => {
  // Garbage enough for many heap pages, unreachable once counted.
  assert.equal(Array.from({ length: 300_000 }, (_, i) => ({ i, s: `x${i}` })).length, 300_000);
  releaseFreedHeap();
  const afterFirst = getHeapStatistics().total_heap_size;
  releaseFreedHeap();
  // A memory-reducing GC leaves the heap at about what is live; a second one finds little more.
  assert.ok(getHeapStatistics().total_heap_size <= afterFirst * 1.1);
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, "undefined", "not on this context's global");
  assert.equal(runInNewContext("typeof gc"), "undefined", "not on a context created later (an isolate's, a vm's)");
});

test("the heap growth bound is set at run time unless the command line sets its own", () => {
  assert.doesNotThrow(() => boundHeapGrowth(["--heap-growing-percent=50"]));
  assert.doesNotThrow(() => boundHeapGrowth([]));
});
