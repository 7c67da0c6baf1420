// Phase "get" of bench/sessions.ts: GET /v1/sessions/{id} over random ids of 100,000 open
// sessions, on the hub and on bare express and raw node:http serving the same JSON from a Map.
import { Redis } from "ioredis";
import { formatRate, measureHttp, type LoadResult } from "./load.ts";
import { cpuMsOf } from "./proc-stats.ts";
import { forkServer, freePort, startHub, stop } from "./processes.ts";
import { spreadOf, formatSpread, printTable } from "./run-stats.ts";
import { seedSessions, sessionIdOf } from "./session-seed.ts";
import type { Verdict } from "./verdict.ts";
import type { SessionsBench } from "./sessions-bench.ts";

export async function runGetPhase(bench: SessionsBench): Promise<Verdict[]> {
  const { redisUrl, rounds, seconds, connections, hubEnv, newPrefix } = bench;
  const count = Number(process.env["BENCH_SESSIONS"] ?? 100_000);
  const nowMs = Date.now();
  const prefix = newPrefix();
  const redis = new Redis(redisUrl);
  const seeding = performance.now();
  await seedSessions(redis, prefix, count, { nowMs });
  redis.disconnect();
  console.log(`get: ${count.toLocaleString("en-US")} open sessions written to Redis in ${((performance.now() - seeding) / 1000).toFixed(1)} s`);

  const serverEnv = { BENCH_SESSIONS: String(count), BENCH_SEED_NOW_MS: String(nowMs) };
  const rawPort = await freePort();
  const expressPort = await freePort();
  const hubPort = await freePort();
  const [raw, bare] = await Promise.all([
    forkServer(new URL("../servers/session-map-raw.ts", import.meta.url), rawPort, { env: serverEnv }),
    forkServer(new URL("../servers/session-map-express.ts", import.meta.url), expressPort, { env: serverEnv }),
  ]);
  const starting = performance.now();
  const hub = await startHub(hubEnv, hubPort, { prefix, readyTimeoutMs: 300_000 });
  console.log(`get: hub ready (open sessions loaded) in ${((performance.now() - starting) / 1000).toFixed(1)} s`);
  const read = { authorization: `Bearer ${bench.readKey}` };
  try {
    // The same bytes from all three, for a few ids.
    for (const i of [0, Math.floor(count / 2), count - 1]) {
      const path = `/v1/sessions/${sessionIdOf(i)}`;
      const [a, b, c] = await Promise.all([`http://127.0.0.1:${hubPort}${path}`, `http://127.0.0.1:${rawPort}${path}`, `http://127.0.0.1:${expressPort}${path}`].map(async (url) => (await fetch(url, { headers: read })).text()));
      if (a !== b || b !== c) throw new Error(`session ${i}: the hub and the baselines answer different JSON`);
    }
    const randomPath = { prefix: "/v1/sessions/bs-", count };
    const cases = [
      { name: "raw node:http, Map", url: `http://127.0.0.1:${rawPort}/`, headers: {}, pid: raw.pid },
      { name: "bare express, Map", url: `http://127.0.0.1:${expressPort}/`, headers: {}, pid: bare.pid },
      { name: "kefu-hub GET /v1/sessions/{id}", url: `http://127.0.0.1:${hubPort}/`, headers: read, pid: hub.child.pid },
    ];
    // Every session read once on every server first: the hub keeps sessions nobody read for a
    // while packed (KEFU_SESSIONS_PACK_IDLE_SECONDS) and loads them so; the rounds measure serving
    // them from memory, as the baselines do. The pass's own rate is the cold figure.
    const firstReads = new Map<string, LoadResult>();
    for (const c of cases) firstReads.set(c.name, await measureHttp({ ...c, everyPath: { prefix: "/v1/sessions/bs-", count }, connections }));
    for (const c of cases) await measureHttp({ ...c, randomPath, connections, durationSeconds: 2 }); // warm-up
    const results = new Map<string, LoadResult[]>(cases.map((c) => [c.name, []]));
    // The server's own CPU per answer: steadier than req/s on a machine whose cores are shared.
    const cpuPerRequest = new Map<string, number[]>(cases.map((c) => [c.name, []]));
    // Interleaved rounds: a burst of other work on the shared machine lands on every case alike.
    for (let round = 0; round < rounds; round++) {
      for (const c of cases) {
        const cpuBefore = cpuMsOf(c.pid);
        const result = await measureHttp({ ...c, randomPath, connections, durationSeconds: seconds });
        results.get(c.name)?.push(result);
        cpuPerRequest.get(c.name)?.push(((cpuMsOf(c.pid) - cpuBefore) * 1000) / result.total);
      }
    }
    const of = (name: string): LoadResult[] => results.get(name) ?? [];
    const [rawRuns, expressRuns, hubRuns] = cases.map((c) => of(c.name)) as [LoadResult[], LoadResult[], LoadResult[]];
    console.log(`\nGET /v1/sessions/{id} — ${count.toLocaleString("en-US")} open sessions, random ids, ${connections} connections, ${rounds} interleaved rounds of ${seconds} s, answer ${Buffer.byteLength(await (await fetch(`http://127.0.0.1:${rawPort}/v1/sessions/bs-1`)).text())} B`);
    printTable(
      ["case", "req/s", "server CPU µs/req", "p50 ms", "p99 ms", "failures", "first read of each: req/s"],
      cases.map((c) => {
        const runs = of(c.name);
        return [c.name, formatSpread(spreadOf(runs.map((r) => r.requestsPerSecond))), formatSpread(spreadOf(cpuPerRequest.get(c.name) ?? [])), formatSpread(spreadOf(runs.map((r) => r.p50Ms))), formatSpread(spreadOf(runs.map((r) => r.p99Ms))), String(runs.reduce((s, r) => s + r.failures, 0)), formatRate(firstReads.get(c.name)?.requestsPerSecond ?? NaN)];
      }),
    );
    const ratio = (base: LoadResult[]): number[] => hubRuns.map((r, k) => r.requestsPerSecond / (base[k]?.requestsPerSecond ?? NaN));
    const hubRate = spreadOf(hubRuns.map((r) => r.requestsPerSecond));
    const vsExpress = spreadOf(ratio(expressRuns));
    const vsRaw = spreadOf(ratio(rawRuns));
    return [
      { figure: "GET session req/s vs bare express", value: hubRate, ratio: vsExpress, baseline: `bare express ${formatSpread(spreadOf(expressRuns.map((r) => r.requestsPerSecond)))}`, target: "≥ 0.8×", pass: vsExpress.median >= 0.8 },
      { figure: "GET session req/s vs raw node:http", value: hubRate, ratio: vsRaw, baseline: `raw node:http ${formatSpread(spreadOf(rawRuns.map((r) => r.requestsPerSecond)))}`, target: "≥ 0.4×", pass: vsRaw.median >= 0.4 },
    ];
  } finally {
    await Promise.all([stop(raw), stop(bare), hub.stop()]);
  }
}
