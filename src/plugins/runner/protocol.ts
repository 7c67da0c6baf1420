/**
 * Messages between the API process (runner-client.ts) and the plugin runner (runner-main.ts).
 * Each IPC message is an array of them: messages queued within one turn of the event loop go
 * out together, which saves a write and a JSON framing per call under concurrency
 * (bench/plugins.ts measures it).
 */

/** Everything the runner needs to build one plugin version's isolate. */
export interface LoadSpec {
  /** Unique per loaded version: a reload loads a new instance next to the old one. */
  instance: string;
  plugin: string;
  /** The esbuild IIFE bundle; it assigns the entry's exports to `__kefuExports`. */
  code: string;
  memoryMb: number;
  timeoutMs: number;
  /** Allowed origins, already resolved (`https://api.example:8443`). */
  allow: string[];
  cache: boolean;
  config: Record<string, unknown>;
  /** Only the declared names that have a value. */
  secrets: Record<string, string>;
}

/** An answer the fake upstream of `kefu-hub plugin test` gives instead of the network. */
export interface FakeRoute {
  method: string;
  url: string;
  status: number;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
}

export interface RunnerInit {
  /** Where kefu.cache lives; `memory` (a Map per runner) is for `kefu-hub plugin test`. */
  cache: { kind: "redis"; url: string; prefix: string } | { kind: "memory" };
  /** Lowest plugin log level forwarded to the API process. */
  logLevel: string;
}

export type ToRunner =
  | { t: "load"; id: number; spec: LoadSpec }
  | { t: "unload"; id: number; instance: string }
  | { t: "call"; id: number; instance: string; method: string; input: string; timeoutMs: number }
  | { t: "fake"; id: number; instance: string; routes: FakeRoute[] | null }
  /** Answered with a {@link RunnerMemory} as JSON. */
  | { t: "memory"; id: number };

/** One isolate's heap, from isolated-vm's `getHeapStatistics()`. */
export interface IsolateHeap {
  usedHeapBytes: number;
  totalHeapBytes: number;
  /** The manifest's memory limit as V8 applies it. */
  limitBytes: number;
  /** ArrayBuffers and other memory held outside the isolate's heap on its behalf. */
  externalBytes: number;
}

/** The runner process's memory and each loaded plugin version's isolate. */
export interface RunnerMemory {
  pid: number;
  rssBytes: number;
  heapUsedBytes: number;
  isolates: ({ plugin: string; instance: string } & (IsolateHeap | { busy: true }))[];
}

export type RunnerErrorKind = "error" | "output" | "timeout" | "memory" | "unavailable" | "load";

export interface RunnerError {
  kind: RunnerErrorKind;
  message: string;
  /** The error's name inside the plugin (TypeError, …), for `error`. */
  name?: string;
}

export type FromRunner =
  | { t: "ready" }
  /** `value` of a call: `o<json>` a result, `u` undefined. Of a load: the exported function names, comma-separated. */
  | { t: "reply"; id: number; ok: true; value: string }
  | { t: "reply"; id: number; ok: false; error: RunnerError }
  | { t: "log"; plugin: string; level: "debug" | "info" | "warn" | "error"; msg: string; fields?: Record<string, unknown> }
  | { t: "restarted"; plugin: string; instance: string; reason: "memory" | "timeout" };

/** Collects messages and sends them as one array per turn of the event loop. */
export function batchingSender<T>(send: (batch: T[]) => void): (message: T) => void {
  let batch: T[] | undefined;
  return (message) => {
    if (batch) {
      batch.push(message);
      return;
    }
    batch = [message];
    setImmediate(() => {
      const out = batch ?? [];
      batch = undefined;
      send(out);
    });
  };
}
