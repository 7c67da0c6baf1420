import { monitorEventLoopDelay, PerformanceObserver, constants, type ELDHistogram } from "node:perf_hooks";

/** GC pauses since the previous sample, by kind. */
export interface GcPauses {
  count: number;
  totalMs: number;
  maxMs: number;
  /** `minor` (scavenge), `major` (mark-sweep-compact), `incremental`, `weakcb`, by count. */
  byKind: Record<string, number>;
}

/** Event-loop delay since the previous sample (perf_hooks `monitorEventLoopDelay`). */
export interface LoopDelay {
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface RuntimeWatch {
  /** What happened since the previous call (or the start), then starts over. */
  sample(): { gc: GcPauses; eventLoop: LoopDelay };
  close(): void;
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
};

/**
 * GC pauses (a PerformanceObserver on `gc` entries) and event-loop delay (a 10 ms resolution
 * histogram). Started only while someone watches /godmode: neither costs much, but nothing is
 * the cheapest.
 */
export function watchRuntime({ resolutionMs = 10 }: { resolutionMs?: number } = {}): RuntimeWatch {
  let gc = emptyGc();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = GC_KINDS[(entry as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? "other";
      gc.count++;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
      gc.byKind[kind] = (gc.byKind[kind] ?? 0) + 1;
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  const loop: ELDHistogram = monitorEventLoopDelay({ resolution: resolutionMs });
  loop.enable();
  return {
    sample() {
      const taken = { gc: rounded(gc), eventLoop: delayOf(loop) };
      gc = emptyGc();
      loop.reset();
      return taken;
    },
    close() {
      observer.disconnect();
      loop.disable();
    },
  };
}

function emptyGc(): GcPauses {
  return { count: 0, totalMs: 0, maxMs: 0, byKind: {} };
}

function rounded(gc: GcPauses): GcPauses {
  return { ...gc, totalMs: round(gc.totalMs), maxMs: round(gc.maxMs) };
}

function delayOf(histogram: ELDHistogram): LoopDelay {
  // Nanoseconds; an empty histogram reports NaN mean and a huge min, so guard with its count.
  if (histogram.count === 0) return { meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
  const ms = (ns: number): number => round(ns / 1e6);
  return { meanMs: ms(histogram.mean), p50Ms: ms(histogram.percentile(50)), p99Ms: ms(histogram.percentile(99)), maxMs: ms(histogram.max) };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
