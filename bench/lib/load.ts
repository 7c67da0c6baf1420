import { fork } from "node:child_process";

export interface LoadOptions {
  url: string;
  method?: "GET" | "POST" | "PUT" | "DELETE";
  headers?: Record<string, string>;
  body?: string;
  /** Concurrent connections. @defaultValue 50 */
  connections?: number;
  /** @defaultValue 5 */
  durationSeconds?: number;
  /**
   * Each request's path is `${prefix}${i}${suffix}`, `i` uniform in [0, count): a random key per
   * request instead of `url`'s path. @defaultValue none (always `url`)
   */
  randomPath?: { prefix: string; count: number; suffix?: string };
  /**
   * Each request's path is `${prefix}${i}`, `i` counting from 0 to `count - 1`, and the run ends
   * after those `count` requests (durationSeconds is then ignored): every key read once. @defaultValue none
   */
  everyPath?: { prefix: string; count: number };
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses with a status other than 2xx, plus connection errors and timeouts. */
  failures: number;
  total: number;
}

/**
 * Runs autocannon in a child process, so that the load generator does not share an event loop
 * (or a core's time slices in the same thread) with the server under test.
 */
export function measureHttp(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL("./autocannon-worker.ts", import.meta.url), [JSON.stringify(options)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    child.once("message", (message) => resolve(message as LoadResult));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`autocannon worker exited with ${code}`));
    });
  });
}

/** `1234.5` → `"1,235"`. */
export function formatRate(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** Prints a table row per measurement with ratios to the named baselines. */
export function printComparison(title: string, rows: { name: string; result: LoadResult }[], baselines: string[]): void {
  console.log(`\n${title}`);
  const byName = new Map(rows.map((row) => [row.name, row.result]));
  const header = ["case", "req/s", "p50 ms", "p99 ms", "failures", ...baselines.map((b) => `× ${b}`)];
  const lines = rows.map(({ name, result }) => [
    name,
    formatRate(result.requestsPerSecond),
    result.p50Ms.toFixed(2),
    result.p99Ms.toFixed(2),
    String(result.failures),
    ...baselines.map((b) => (result.requestsPerSecond / (byName.get(b)?.requestsPerSecond ?? NaN)).toFixed(2)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const format = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ");
  console.log(format(header));
  for (const line of lines) console.log(format(line));
}
