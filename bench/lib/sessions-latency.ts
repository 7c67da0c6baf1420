// Phase "latency" of bench/sessions.ts: behaviour events XADDed at a paced rate for open sessions;
// the time from each XADD until the change is in GET /v1/sessions/{id} and on its SSE stream,
// against the floor of the Redis Stream hop itself (a bare XREADGROUP in this process).
import { Redis } from "ioredis";
import { LatencyLog, pollGet, watchSse, watchStream } from "./change-watchers.ts";
import { paced, percentile, sleep } from "./pacing.ts";
import { freePort, startHub } from "./processes.ts";
import { formatSpread, printTable, spreadOf } from "./run-stats.ts";
import { customerIdOf, seedSessions, sessionIdOf } from "./session-seed.ts";
import type { SessionsBench } from "./sessions-bench.ts";
import type { Verdict } from "./verdict.ts";

export async function runLatencyPhase(bench: SessionsBench): Promise<Verdict[]> {
  const rate = Number(process.env["BENCH_LATENCY_RATE"] ?? 2000);
  const seconds = Number(process.env["BENCH_LATENCY_SECONDS"] ?? 10);
  const sessions = Number(process.env["BENCH_LATENCY_SESSIONS"] ?? 100);
  const pollers = Number(process.env["BENCH_LATENCY_POLLERS"] ?? 2);
  const prefix = bench.newPrefix();
  const stream = `${prefix}:behavior`;
  const redis = new Redis(bench.redisUrl);
  const floorConnection = new Redis(bench.redisUrl);
  await seedSessions(redis, prefix, sessions, { nowMs: Date.now() });
  const port = await freePort();
  const hub = await startHub({ ...bench.hubEnv, ...(await bench.streamHubEnv()), KEFU_BEHAVIOR_REDIS_STREAM: stream }, port, { prefix, readyTimeoutMs: 120_000 });
  const headers = { authorization: `Bearer ${bench.readKey}` };
  const logs = { sse: new LatencyLog(), get: new LatencyLog(), floor: new LatencyLog() };
  const abort = new AbortController();
  const url = (i: number): string => `http://127.0.0.1:${port}/v1/sessions/${sessionIdOf(i)}`;
  const watchers = [
    ...Array.from({ length: sessions }, (_, i) => watchSse(`${url(i)}/stream`, headers, logs.sse, abort.signal)),
    ...Array.from({ length: pollers }, (_, i) => pollGet(url(i), headers, logs.get, abort.signal)),
    watchStream(floorConnection, stream, logs.floor, abort.signal),
  ];
  // Event i is for session i % sessions; GET sees only the polled sessions' share.
  const send = (i: number): Promise<unknown> =>
    redis.xadd(stream, "*", "event", JSON.stringify({ id: `${prefix}-${i}`, customerId: customerIdOf(i % sessions), type: "page.viewed", occurredAt: new Date().toISOString(), data: { url: `https://shop.example/products/${i % 5000}`, sentAt: performance.now() } }));
  const rows: { sse: number[]; get: number[]; floor: number[]; sent: number; seenOnSse: number; sendSeconds: number }[] = [];
  try {
    await sleep(500);
    await paced(0, rate * 2, rate, send); // warm-up
    await sleep(500);
    let next = rate * 2;
    for (let round = 0; round < bench.rounds; round++) {
      for (const log of Object.values(logs)) log.reset();
      const started = performance.now();
      const count = rate * seconds;
      await paced(next, count, rate, send);
      const sendSeconds = (performance.now() - started) / 1000;
      next += count;
      await sleep(1000); // stragglers
      const sorted = (log: LatencyLog): number[] => [...log.values].sort((a, b) => a - b);
      rows.push({ sse: sorted(logs.sse), get: sorted(logs.get), floor: sorted(logs.floor), sent: count, seenOnSse: logs.sse.values.length, sendSeconds });
    }
  } finally {
    abort.abort();
    await Promise.allSettled(watchers);
    await hub.stop();
    redis.disconnect();
    floorConnection.disconnect();
  }
  const p = (key: "sse" | "get" | "floor", q: number): ReturnType<typeof spreadOf> => spreadOf(rows.map((row) => percentile(row[key], q)));
  console.log(`\nEvent → change visible — ${rate.toLocaleString("en-US")} page.viewed events/s XADDed for ${sessions} open sessions, ${bench.rounds} rounds of ${seconds} s; SSE on every session, GET polled back to back (If-None-Match) on ${pollers}`);
  printTable(
    ["where", "p50 ms", "p99 ms", "max ms", "events seen"],
    (["floor", "get", "sse"] as const).map((key) => [
      { floor: "XREADGROUP in the bench (floor)", get: "GET /v1/sessions/{id}", sse: "SSE /v1/sessions/{id}/stream" }[key],
      formatSpread(p(key, 50)),
      formatSpread(p(key, 99)),
      formatSpread(p(key, 100)),
      rows.map((row) => `${row[key].length}`).join(", "),
    ]),
  );
  console.log(`events sent per round: ${rows.map((row) => `${row.sent} in ${row.sendSeconds.toFixed(1)} s`).join(", ")}; seen on SSE: ${rows.map((row) => row.seenOnSse).join(", ")}`);
  const verdict = (key: "sse" | "get", figure: string): Verdict => {
    const p99 = p(key, 99);
    return { figure, value: p99, unit: " ms", ratio: spreadOf(rows.map((row) => percentile(row[key], 99) / percentile(row.floor, 99))), baseline: `XREADGROUP floor p99 ${formatSpread(p("floor", 99))} ms`, target: "p99 < 50 ms", pass: p99.median < 50 };
  };
  return [verdict("get", `event → GET p99 at ${rate}/s`), verdict("sse", `event → SSE p99 at ${rate}/s`)];
}
