import { setFlagsFromString } from "node:v8";
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

/** V8's old-generation growth allowed between full GCs, in percent of what the last one kept. */
export const HEAP_GROWING_PERCENT = 25;

/**
 * Lets the old generation grow by {@link HEAP_GROWING_PERCENT} % of what the last full GC kept
 * before the next one, instead of V8's own factor (up to 4× on a machine with memory to spare):
 * with 100,000 open sessions and 10,000 connections the hub kept ~115 MB live in a 295 MB heap
 * under load. Set at run time, not as a start flag, because Node refuses this V8 flag in
 * NODE_OPTIONS (what the image uses) and so that every way of starting the hub gets it; V8 reads
 * it whenever it sets the next limit. A `--heap-growing-percent` given on the command line wins.
 */
export function boundHeapGrowth(execArgv: readonly string[] = process.execArgv): void {
  if (execArgv.some((flag) => /^--heap[-_]growing[-_]percent\b/.test(flag))) return;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
