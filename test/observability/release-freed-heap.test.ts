import assert from "node:assert/strict";
import { test } from "node:test";
import { getHeapStatistics } from "node:v8";
import { runInNewContext } from "node:vm";
import { boundHeapGrowth, heapGrowingPercent, releaseFreedHeap } from "../../src/release-freed-heap.ts";
import { eventually } from "../helpers/test-hub.ts";

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

test("the heap may grow by a quarter of what is live, but by 40 MB at least and twice it at most", () => {
  const MB = 1024 * 1024;
  assert.equal(heapGrowingPercent(10 * MB), 100);
  assert.equal(heapGrowingPercent(40 * MB), 100);
  assert.equal(heapGrowingPercent(80 * MB), 50);
  assert.equal(heapGrowingPercent(400 * MB), 25);
  assert.equal(heapGrowingPercent(0), 100);
});

test("the growth bound follows the live heap after each full GC, unless the command line sets its own", async () => {
  assert.equal(boundHeapGrowth({ execArgv: ["--heap-growing-percent=50"], setFlags: () => assert.fail("set over the command line's") }), undefined);
  const set: string[] = [];
  let live = 80 * 1024 * 1024;
  const stop = boundHeapGrowth({ execArgv: [], setFlags: (flags) => set.push(flags), liveBytes: () => live });
  try {
    assert.deepEqual(set, ["--heap-growing-percent=50"]);
    live = 400 * 1024 * 1024;
    releaseFreedHeap(); // a full GC
    await eventually(() => set.length === 2, 2000, "the bound to follow the full GC");
    assert.deepEqual(set, ["--heap-growing-percent=50", "--heap-growing-percent=25"]);
    releaseFreedHeap();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(set.length, 2, "an unchanged bound is not set again");
  } finally {
    stop?.();
  }
});
