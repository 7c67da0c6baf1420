import { getHeapSpaceStatistics } from "node:v8";
import type { StoreMemory } from "../hub-module.ts";
import type { RunnerMemory } from "../plugins/runner/protocol.ts";
import { watchRuntime, type GcPauses, type LoopDelay, type RuntimeWatch } from "./runtime-watch.ts";

/** One second of /godmode: where the memory is, and how the runtime did since the last one. */
export interface MemorySnapshot {
  at: string;
  process: { pid: number; rssBytes: number; heapTotalBytes: number; heapUsedBytes: number; externalBytes: number; arrayBuffersBytes: number };
  /** V8's heap by space (`new_space`, `old_space`, `code_space`, `large_object_space`, …). */
  heapSpaces: { space: string; sizeBytes: number; usedBytes: number }[];
  /** The plugin runner process and its isolates; `error` when it did not answer. */
  plugins: RunnerMemory | { error: string };
  /** Each module's in-process stores. */
  stores: (StoreMemory & { module: string })[];
  gc: GcPauses;
  eventLoop: LoopDelay;
}

export interface MemoryFeedOptions {
  /** The modules' `memoryReport` ports, by module name. */
  stores: () => readonly { module: string; report: () => readonly StoreMemory[] }[];
  /** The plugin host's report of its runner. */
  plugins: () => Promise<RunnerMemory>;
  /** @defaultValue 1000 */
  intervalMs?: number;
}

export interface MemoryFeed {
  /** Calls `listener` with a snapshot every interval (the first at once) until the returned function is called. */
  subscribe(listener: (snapshot: MemorySnapshot) => void): () => void;
  close(): void;
}

/**
 * Samples once per interval for every watcher together, and only while someone watches: the GC
 * observer and the loop-delay histogram start with the first watcher and stop with the last.
 */
export function createMemoryFeed({ stores, plugins, intervalMs = 1000 }: MemoryFeedOptions): MemoryFeed {
  const listeners = new Set<(snapshot: MemorySnapshot) => void>();
  let runtime: RuntimeWatch | undefined;
  let timer: NodeJS.Timeout | undefined;

  const tick = async (): Promise<void> => {
    if (!runtime) return;
    const snapshot = await takeSnapshot(runtime, stores, plugins);
    for (const listener of listeners) listener(snapshot);
  };
  const stop = (): void => {
    clearInterval(timer);
    timer = undefined;
    runtime?.close();
    runtime = undefined;
  };
  return {
    subscribe(listener) {
      listeners.add(listener);
      if (!runtime) {
        runtime = watchRuntime();
        timer = setInterval(() => void tick(), intervalMs);
        timer.unref();
      }
      // The newcomer gets one at once instead of waiting a whole interval.
      void takeSnapshot(runtime, stores, plugins, { peek: true }).then((snapshot) => listeners.has(listener) && listener(snapshot));
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) stop();
      };
    },
    close() {
      listeners.clear();
      stop();
    },
  };
}

async function takeSnapshot(runtime: RuntimeWatch, stores: MemoryFeedOptions["stores"], plugins: MemoryFeedOptions["plugins"], { peek = false } = {}): Promise<MemorySnapshot> {
  const runner = await plugins().catch((error: unknown) => ({ error: (error as Error).message }));
  const usage = process.memoryUsage();
  // A newcomer's first snapshot must not reset the interval the others are measuring.
  const { gc, eventLoop } = peek ? { gc: { count: 0, totalMs: 0, maxMs: 0, byKind: {} }, eventLoop: { meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 } } : runtime.sample();
  return {
    at: new Date().toISOString(),
    process: { pid: process.pid, rssBytes: usage.rss, heapTotalBytes: usage.heapTotal, heapUsedBytes: usage.heapUsed, externalBytes: usage.external, arrayBuffersBytes: usage.arrayBuffers },
    heapSpaces: getHeapSpaceStatistics().map((space) => ({ space: space.space_name, sizeBytes: space.space_size, usedBytes: space.space_used_size })),
    plugins: runner,
    stores: stores().flatMap(({ module, report }) => safeReport(report).map((store) => ({ module, ...store }))),
    gc,
    eventLoop,
  };
}

/** A module whose report throws shows nothing rather than taking /godmode down. */
function safeReport(report: () => readonly StoreMemory[]): readonly StoreMemory[] {
  try {
    return report();
  } catch {
    return [];
  }
}
