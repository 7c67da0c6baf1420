// Order context: the hot (cached) path of GET /v1/orders/{id}/context against a bare express route
// and raw node:http serving the same JSON from a Map (the ceilings), and the cold path with the
// demo business system at 20 ms per call against the ideal, the slowest part's own latency — all
// measured in this run. Env: BENCH_SECONDS (default 4) × BENCH_ROUNDS (default 3), BENCH_CONNECTIONS (default 50),
// BENCH_COLD_REQUESTS (default 150), BENCH_LATENCY_MS (default 20).
import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDemoBusinessSystem, type DemoApi } from "../plugins/demo-business-system/server.ts";
import { measureHttp, printComparison, type LoadResult } from "./lib/load.ts";
import { freePort, startHub, stop } from "./lib/processes.ts";

const seconds = Number(process.env["BENCH_SECONDS"] ?? 4);
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 3);
const connections = Number(process.env["BENCH_CONNECTIONS"] ?? 50);
const coldRequests = Number(process.env["BENCH_COLD_REQUESTS"] ?? 150);
const latencyMs = Number(process.env["BENCH_LATENCY_MS"] ?? 20);
const readKey = `bench-read-${randomUUID()}`;
const adminKey = `bench-admin-${randomUUID()}`;
const APIS: DemoApi[] = ["orders", "payments", "logistics", "crm"];

async function forkWith(script: string, port: number, file: string): Promise<ChildProcess> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [String(port), file], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return child;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

/** Sequential timings of `request(i)`, after a few unmeasured warm-up calls. */
async function timeSequential(count: number, request: (i: number) => Promise<void>, after?: (i: number) => Promise<void>): Promise<number[]> {
  for (let i = 0; i < 5; i += 1) {
    await request(count + i);
    await after?.(count + i);
  }
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    await request(i);
    times.push(performance.now() - started);
    await after?.(i);
  }
  return times.sort((a, b) => a - b);
}

const demo = await startDemoBusinessSystem({ port: 0 });
const plugins: Record<string, { config: Record<string, unknown> }> = Object.fromEntries(
  ["demo-orders", "demo-payments", "demo-logistics"].map((name) => [name, { config: { baseUrl: demo.url } }]),
);
// demo-crm keeps customers in kefu.cache; off, so that the cold path really calls the CRM.
plugins["demo-crm"] = { config: { baseUrl: demo.url, cacheTtlSeconds: 0 } };
const hubPort = await freePort();
const hub = await startHub(
  {
    KEFU_API_KEYS: `${readKey}=read,${adminKey}=admin`,
    KEFU_LOG_LEVEL: "info",
    KEFU_PLUGINS: JSON.stringify(plugins),
    KEFU_PLUGIN_WATCH: "false",
    KEFU_DEMO_BUSINESS_SYSTEM: "false",
    // The hot path must stay hot for the whole measurement.
    KEFU_CONTEXT_ORDER_TTL_SECONDS: "3600",
    KEFU_CONTEXT_PAYMENTS_TTL_SECONDS: "3600",
    KEFU_CONTEXT_SHIPMENTS_TTL_SECONDS: "3600",
    KEFU_CONTEXT_CUSTOMER_TTL_SECONDS: "3600",
  },
  hubPort,
);
const hubUrl = `http://127.0.0.1:${hubPort}`;
const read = { authorization: `Bearer ${readKey}` };
const admin = { authorization: `Bearer ${adminKey}` };
const tmp = mkdtempSync(join(tmpdir(), "kefu-bench-context-"));

try {
  // ---- hot path: one cached order, against the ceilings serving the very same JSON from a Map
  const orderId = demo.orderIds()[0]!;
  const warm = await fetch(`${hubUrl}/v1/orders/${orderId}/context`, { headers: read });
  const context = (await warm.json()) as { degraded: unknown[] };
  if (warm.status !== 200 || context.degraded.length > 0) throw new Error(`warming the cache failed: ${warm.status} ${JSON.stringify(context)}`);
  const file = join(tmp, "contexts.json");
  writeFileSync(file, JSON.stringify({ [orderId]: context }));
  const path = `/v1/orders/${orderId}/context`;
  const rawPort = await freePort();
  const raw = await forkWith("./servers/context-map-raw.ts", rawPort, file);
  const expressPort = await freePort();
  const bare = await forkWith("./servers/context-map-express.ts", expressPort, file);
  const cases = [
    { name: "raw node:http, Map", url: `http://127.0.0.1:${rawPort}${path}`, headers: {} },
    { name: "bare express, Map", url: `http://127.0.0.1:${expressPort}${path}`, headers: {} },
    { name: "kefu-hub context (hot)", url: `${hubUrl}${path}`, headers: read },
  ];
  // The machine is shared: the cases take turns, round after round, and each keeps its median
  // round, so that a burst of other work does not land on one case only.
  const results = new Map<string, LoadResult[]>(cases.map((c) => [c.name, []]));
  for (const c of cases) await measureHttp({ url: c.url, headers: c.headers, connections, durationSeconds: 2 }); // warm-up
  for (let round = 0; round < rounds; round += 1) {
    for (const c of cases) results.get(c.name)!.push(await measureHttp({ url: c.url, headers: c.headers, connections, durationSeconds: seconds }));
  }
  await stop(raw);
  await stop(bare);
  const median = (runs: LoadResult[]): LoadResult => [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor(runs.length / 2)]!;
  printComparison(
    `Order context, hot path — ${connections} connections, median of ${rounds} interleaved rounds of ${seconds} s, keep-alive, ${Buffer.byteLength(JSON.stringify(context))} B answer, hub logs at info`,
    cases.map((c) => ({ name: c.name, result: median(results.get(c.name)!) })),
    ["raw node:http, Map", "bare express, Map"],
  );

  // ---- cold path: every part fetched through the plugins, each API answering after `latencyMs`
  const dropped = await fetch(`${hubUrl}${path}/cache`, { method: "DELETE", headers: admin });
  if (dropped.status !== 204) throw new Error(`DELETE answered ${dropped.status}`);
  for (const api of APIS) demo.setKnobs(api, { latencyMs });
  const ids = demo.orderIds();
  const customerOf = new Map<string, string>();
  const directPaths: Record<DemoApi, (i: number) => string> = {
    orders: (i) => `/orders/${ids[i % ids.length]}`,
    payments: (i) => `/orders/${ids[i % ids.length]}/payments`,
    logistics: (i) => `/orders/${ids[i % ids.length]}/shipments`,
    crm: (i) => `/customers/${demo.customerIds()[i % demo.customerIds().length]}`,
  };
  const direct: Record<string, number[]> = {};
  for (const api of APIS) {
    direct[api] = await timeSequential(coldRequests, async (i) => void (await (await fetch(demo.url + directPaths[api](i))).text()));
  }
  // The customer ids, to ask for them alongside (as an agent console that knows the customer does).
  for (const api of APIS) demo.setKnobs(api, { latencyMs: 0 });
  for (const id of ids.slice(0, coldRequests + 5)) {
    const order = (await (await fetch(`${demo.url}/orders/${id}`)).json()) as { customerId: string };
    customerOf.set(id, order.customerId);
  }
  for (const api of APIS) demo.setKnobs(api, { latencyMs });

  const drop = async (i: number): Promise<void> => {
    const res = await fetch(`${hubUrl}/v1/orders/${ids[i]}/context/cache`, { method: "DELETE", headers: admin });
    if (res.status !== 204) throw new Error(`DELETE answered ${res.status}`);
  };
  const partDurations: Record<string, number[]> = {};
  const cold = async (i: number, withCustomer: boolean): Promise<void> => {
    const id = ids[i]!;
    const query = withCustomer ? `?customerId=${customerOf.get(id)}` : "";
    const res = await fetch(`${hubUrl}/v1/orders/${id}/context${query}`, { headers: read });
    const body = (await res.json()) as { degraded: unknown[]; sources: Record<string, { cache: string; durationMs: number }> };
    if (res.status !== 200 || body.degraded.length > 0 || Object.values(body.sources).some((s) => s.cache !== "miss")) {
      throw new Error(`not a clean cold answer: ${res.status} ${JSON.stringify(body)}`);
    }
    if (withCustomer) for (const [part, source] of Object.entries(body.sources)) (partDurations[part] ??= []).push(source.durationMs);
  };
  const concurrent = await timeSequential(coldRequests, (i) => cold(i, true), drop);
  const chained = await timeSequential(coldRequests, (i) => cold(i, false), drop);

  const slowest = Math.max(...APIS.map((api) => percentile(direct[api]!, 50)));
  const chain = percentile(direct["orders"]!, 50) + percentile(direct["crm"]!, 50);
  console.log(`\nOrder context, cold path — ${coldRequests} sequential requests each, every demo API at ${latencyMs} ms, plugins in isolated-vm, cache dropped after each`);
  const table = [
    ["case", "p50 ms", "p99 ms", "ideal p50 ms", "× ideal"],
    ...APIS.map((api) => [`direct GET demo ${api}`, percentile(direct[api]!, 50), percentile(direct[api]!, 99), NaN, NaN]),
    ["context, customerId given (all parts at once)", percentile(concurrent, 50), percentile(concurrent, 99), slowest, percentile(concurrent, 50) / slowest],
    ["context, customer after order", percentile(chained, 50), percentile(chained, 99), chain, percentile(chained, 50) / chain],
  ].map((row) => row.map((cell) => (typeof cell === "number" ? (Number.isNaN(cell) ? "" : cell.toFixed(2)) : cell)));
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join("  "));
  console.log(`ideal: the slowest part's own latency (max of the direct p50s; order then customer for the chained case)`);
  const inside = Object.entries(partDurations).map(([part, times]) => `${part} ${percentile(times.sort((a, b) => a - b), 50).toFixed(1)}`);
  console.log(`p50 of each part's time inside the hub (sources.*.durationMs, customerId given), ms: ${inside.join(", ")}`);
} finally {
  await hub.stop();
  await demo.close();
  rmSync(tmp, { recursive: true, force: true });
}
