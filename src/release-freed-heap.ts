import { constants, PerformanceObserver } from "node:perf_hooks";
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

type GcFunction = (options: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

/**
 * V8's `gc` function, taken from a throw-away context created while `--expose-gc` is on, then
 * switched off again: no context created later (the hub's own, an isolated-vm isolate's) has `gc`.
 * Taken when this module is imported, at start-up, so that the flag is never on while an isolate
 * builds a context on another thread.
 */
const collect: GcFunction = (() => {
  setFlagsFromString("--expose-gc");
  try {
    return runInNewContext("gc") as GcFunction;
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
})();

/**
 * Hands the pages of the V8 heap that hold nothing back to the operating system, with one
 * memory-reducing full GC (~50–100 ms of this thread).
 *
 * Node 24's V8 keeps each heap page a GC frees in a pool for reuse, and gives pooled pages back
 * only on a memory-reducing GC; its memory reducer, which should start one when a process goes
 * quiet, judges the allocation rate high even in an idle process and never does. So the garbage
 * of start-up (type stripping, schema compilation, plugin bundles, loading every open session)
 * stays resident for the life of the process: ~80 MB of the idle hub's ~210 MB RSS
 * (docs/benchmarks.md, memory). Call it once a burst of start-up work is over, never per request.
 */
export function releaseFreedHeap(): void {
  collect({ type: "major", execution: "sync", flavor: "last-resort" });
}

/**
 * The old generation's growth allowed between full GCs: a quarter of what the last one kept, but
 * at least `headroomBytes`, and never more than `maxPercent`. V8's own factor (up to 4× on
 * a machine with memory to spare) let the hub with 100,000 sessions and 10,000 connections keep
 * ~115 MB live in a 295 MB heap under load; a flat 25 % took that peak from 719 to ~600 MiB, but
 * gave a delivery-only hub (~40 MB live) a full GC every second under load, 5–20 ms each: the
 * clusters of its webhook latency tail (docs/benchmarks.md, delivery). The headroom keeps small
 * heaps' full GCs seconds apart and costs large ones little.
 */
export const HEAP_GROWTH = { minPercent: 25, maxPercent: 100, headroomBytes: 40 * 1024 * 1024 } as const;

export function heapGrowingPercent(liveBytes: number): number {
  const forHeadroom = Math.ceil((HEAP_GROWTH.headroomBytes / Math.max(liveBytes, 1)) * 100);
  return Math.min(HEAP_GROWTH.maxPercent, Math.max(HEAP_GROWTH.minPercent, forHeadroom));
}

export interface HeapGrowthOptions {
  execArgv?: readonly string[];
  /** @defaultValue v8.setFlagsFromString */
  setFlags?: (flags: string) => void;
  /** What the last full GC kept, about. @defaultValue the V8 heap's used size */
  liveBytes?: () => number;
}

/**
 * Sets `--heap-growing-percent` to {@link heapGrowingPercent} of the live heap now and again after
 * every full GC. At run time, not as a start flag, because Node refuses this V8 flag in
 * NODE_OPTIONS (what the image uses) and so that every way of starting the hub gets it; V8 reads
 * it whenever it sets the next limit, so each value applies from the full GC after the one it was
 * computed at. A `--heap-growing-percent` given on the command line wins (and nothing is set).
 * Answers a function that stops following the heap, or undefined when the command line won.
 */
export function boundHeapGrowth({ execArgv = process.execArgv, setFlags = setFlagsFromString, liveBytes = () => getHeapStatistics().used_heap_size }: HeapGrowthOptions = {}): (() => void) | undefined {
  if (execArgv.some((flag) => /^--heap[-_]growing[-_]percent\b/.test(flag))) return undefined;
  let current: number | undefined;
  const apply = (): void => {
    const percent = heapGrowingPercent(liveBytes());
    if (percent === current) return;
    current = percent;
    setFlags(`--heap-growing-percent=${percent}`);
  };
  apply();
  const observer = new PerformanceObserver((list) => {
    if (list.getEntries().some((entry) => (entry as { detail?: { kind?: number } | null }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) apply();
  });
  observer.observe({ entryTypes: ["gc"] });
  return () => observer.disconnect();
}
