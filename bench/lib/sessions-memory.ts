// Phases "heap" and "bloom" of bench/sessions.ts: what an open session costs in memory, and the
// customer filter's false-positive rate and speed at 1 M open sessions.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createCustomerFilter } from "../../src/sessions/customer-filter.ts";
import { formatSpread, printTable, spreadOf } from "./run-stats.ts";
import type { SessionsBench } from "./sessions-bench.ts";
import type { Verdict } from "./verdict.ts";

interface HeapReport {
  heapPerSession: number;
  externalPerSession: number;
  arrayBuffersPerSession: number;
  rssPerSession: number;
  contextBytes: number;
  windowsBytes: number;
}

function probeHeap(count: number, recentEvents: number): Promise<HeapReport> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL("./heap-probe.ts", import.meta.url)), [String(count), String(recentEvents)], { execArgv: [...process.execArgv, "--expose-gc"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    child.once("message", (message) => resolve(message as HeapReport));
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`heap probe exited with ${code}`));
    });
  });
}

export async function runHeapPhase(bench: SessionsBench): Promise<Verdict[]> {
  const count = Number(process.env["BENCH_SESSIONS"] ?? 100_000);
  const runs: HeapReport[] = [];
  for (let round = 0; round < bench.rounds; round++) runs.push(await probeHeap(count, 10));
  const of = (key: keyof HeapReport): ReturnType<typeof spreadOf> => spreadOf(runs.map((run) => run[key]));
  console.log(`\nMemory per open session — ${count.toLocaleString("en-US")} sessions (10 recent events each) in the hub's session mirror, in process, after full GCs (--expose-gc), ${bench.rounds} runs; bytes per session`);
  printTable(
    ["heapUsed", "external", "of which arrayBuffers", "rss", "context JSON", "windows JSON"],
    [[formatSpread(of("heapPerSession")), formatSpread(of("externalPerSession")), formatSpread(of("arrayBuffersPerSession")), formatSpread(of("rssPerSession")), formatSpread(of("contextBytes")), formatSpread(of("windowsBytes"))]],
  );
  const heap = of("heapPerSession");
  return [
    {
      figure: "V8 heap per open session",
      value: heap,
      unit: " B",
      ratio: spreadOf(runs.map((run) => run.heapPerSession / run.contextBytes)),
      baseline: `its context JSON ${formatSpread(of("contextBytes"))} B (external: ${formatSpread(of("externalPerSession"))} B)`,
      target: "≤ 2,048 B",
      pass: heap.median <= 2048,
    },
  ];
}

/** Ids added one by one, as sessions open: the filter grows by rebuilds from the live set. */
function grownFilter(ids: readonly string[]): ReturnType<typeof createCustomerFilter> {
  let added = 0;
  const filter = createCustomerFilter(() => ids.slice(0, added));
  for (const id of ids) {
    filter.add(id);
    added++;
  }
  return filter;
}

function lookupsPerSecond(ids: readonly string[], test: (id: string) => boolean): { perSecond: number; hits: number } {
  let hits = 0;
  const started = performance.now();
  for (const id of ids) if (test(id)) hits++;
  return { perSecond: (ids.length * 1000) / (performance.now() - started), hits };
}

export function runBloomPhase(bench: SessionsBench): Verdict[] {
  const count = Number(process.env["BENCH_BLOOM_SESSIONS"] ?? 1_000_000);
  const members = Array.from({ length: count }, (_, i) => `C-${i.toString().padStart(8, "0")}`);
  const others = Array.from({ length: count }, (_, i) => `N-${i.toString().padStart(8, "0")}`);
  const set = new Set(members);
  const grown = grownFilter(members);
  const built = createCustomerFilter(() => members);
  // Warm-up: JIT and caches, both ways.
  lookupsPerSecond(others.slice(0, 200_000), (id) => grown.mightContain(id));
  lookupsPerSecond(others.slice(0, 200_000), (id) => set.has(id));
  const rows: { grownFp: number; builtFp: number; bloomRate: number; setRate: number; positives: number }[] = [];
  for (let round = 0; round < bench.rounds; round++) {
    const bloom = lookupsPerSecond(others, (id) => grown.mightContain(id));
    const inSet = lookupsPerSecond(others, (id) => set.has(id));
    const positives = lookupsPerSecond(members, (id) => grown.mightContain(id)).hits;
    rows.push({ grownFp: bloom.hits / count, builtFp: lookupsPerSecond(others, (id) => built.mightContain(id)).hits / count, bloomRate: bloom.perSecond, setRate: inSet.perSecond, positives });
  }
  if (rows.some((row) => row.positives !== count)) throw new Error("the filter said no to a customer it holds");
  const of = (key: keyof (typeof rows)[number]): ReturnType<typeof spreadOf> => spreadOf(rows.map((row) => row[key]));
  const stats = grown.stats();
  console.log(`\nCustomer filter — ${count.toLocaleString("en-US")} customers with an open session, ${count.toLocaleString("en-US")} others looked up, ${bench.rounds} rounds`);
  printTable(
    ["filter", "false positives", "bits", "capacity", "rebuilds"],
    [
      ["grown one add at a time (as sessions open)", `${(of("grownFp").median * 100).toFixed(3)} %`, `${stats.bits.toLocaleString("en-US")} (${(stats.bits / 8 / 2 ** 20).toFixed(1)} MiB)`, stats.capacity.toLocaleString("en-US"), String(stats.rebuilds)],
      ["built once from the live set", `${(of("builtFp").median * 100).toFixed(3)} %`, `${built.stats().bits.toLocaleString("en-US")}`, built.stats().capacity.toLocaleString("en-US"), "0"],
    ],
  );
  console.log(`lookups/s of absent ids: filter ${formatSpread(of("bloomRate"))}, Set.has ${formatSpread(of("setRate"))}`);
  const fp = spreadOf(rows.map((row) => row.grownFp * 100));
  return [
    { figure: `Bloom false positives at ${count.toLocaleString("en-US")} open`, value: fp, unit: " %", target: "≤ 1 %", pass: fp.median <= 1 },
    { figure: "Bloom lookups/s (absent ids)", value: of("bloomRate"), ratio: spreadOf(rows.map((row) => row.bloomRate / row.setRate)), baseline: `Set.has ${formatSpread(of("setRate"))}`, target: "(none; ~5 M/s measured for bloomfilter)" },
  ];
}
