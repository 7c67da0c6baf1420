// bench/plugins.ts — the plugin host's cost. In one run:
//  1. a trivial plugin method: called directly in Node, through the internal call path
//     (PluginCaller → runner process → isolate → validation) and through POST /v1/plugins/{name}/invoke;
//  2. a plugin doing one kefu.http.fetch to a local server vs undici directly, at concurrency 50,
//     both warmed up, alternating for five rounds (the median round is quoted).
// Targets (issue 3): internal call overhead ≤ 0.5 ms p50; fetch via the bridge ≥ 0.5 × undici.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { startTestHub } from "../test/helpers/test-hub.ts";
import { measureHttp, printComparison } from "./lib/load.ts";
import { forkServer, freePort, stop } from "./lib/processes.ts";

const ROUNDS = 5;
const CUSTOMER = { name: "王芳", tier: "gold", riskLevel: "low", tags: ["bench"], contacts: [] };
const trivial = async ({ customerId }: { customerId: string }): Promise<unknown> => ({ id: customerId, ...CUSTOMER });

const upstreamPort = await freePort();
const upstream = await forkServer(new URL("./servers/raw-http.ts", import.meta.url), upstreamPort);
const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
const dir = mkdtempSync(join(tmpdir(), "kefu-bench-plugins-"));
const plugin = (name: string, body: string, extra: Record<string, unknown> = {}): void => {
  mkdirSync(join(dir, name));
  writeFileSync(join(dir, name, "plugin.json"), JSON.stringify({ name, version: "1.0.0", kind: "crm", entry: "index.js", ...extra }));
  writeFileSync(join(dir, name, "index.js"), body);
};
plugin("bench-trivial", `const C = ${JSON.stringify(CUSTOMER)};\nexport async function getCustomer({ customerId }) { return { id: customerId, ...C }; }`);
plugin("bench-fetch", `const C = ${JSON.stringify(CUSTOMER)};
export async function getCustomer({ customerId }) {
  const answer = await kefu.http.fetch(kefu.config.baseUrl + "/customers/" + customerId);
  return { id: customerId, ...C, tags: [(await answer.json()).status] };
}`, { capabilities: { http: { allow: ["${config.baseUrl}"] } }, config: { type: "object", properties: { baseUrl: { type: "string" } } } });

const hub = await startTestHub({ pluginsDir: dir, pluginWatch: false, logLevel: "silent", plugins: { "bench-fetch": { config: { baseUrl: upstreamUrl } } } });

async function sequentialP50(label: string, fn: (i: number) => Promise<unknown>, iterations = 3000): Promise<{ label: string; p50: number; p99: number }> {
  for (let i = 0; i < 300; i++) await fn(i);
  const durations = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    await fn(i);
    durations[i] = performance.now() - started;
  }
  durations.sort();
  return { label, p50: durations[Math.floor(iterations / 2)] ?? NaN, p99: durations[Math.floor(iterations * 0.99)] ?? NaN };
}

/** CPU time of a process so far, in ms (Linux /proc; 0 elsewhere). */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** Calls `fn` from 50 concurrent loops for `seconds`; answers calls per second. */
async function concurrent(fn: () => Promise<unknown>, seconds = 4, concurrency = 50): Promise<{ rate: number; failures: number }> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < until) {
      try {
        await fn();
        done++;
      } catch {
        failures++;
      }
    }
  }));
  return { rate: done / ((performance.now() - started) / 1000), failures };
}

try {
  const agent = new Agent({ connections: 64 });
  const invokeBody = (i: number): string => JSON.stringify({ method: "getCustomer", input: { customerId: `C-${i}` } });
  const headers = { authorization: "Bearer test-admin-key-0001", "content-type": "application/json" };
  const rows = [
    await sequentialP50("direct function call in Node", (i) => trivial({ customerId: `C-${i}` })),
    await sequentialP50("internal call path (PluginCaller)", (i) => hub.hub.plugins.invoke("bench-trivial", "getCustomer", { customerId: `C-${i}` })),
    await sequentialP50("POST /v1/plugins/bench-trivial/invoke", async (i) => {
      const response = await request(`${hub.url}/v1/plugins/bench-trivial/invoke`, { method: "POST", headers, body: invokeBody(i), dispatcher: agent });
      await response.body.text();
    }),
  ];
  console.log("\nTrivial method, one call at a time (ms)");
  console.log(`${"case".padEnd(40)}  p50 ms  p99 ms  overhead p50 vs direct`);
  const direct = rows[0]?.p50 ?? 0;
  for (const row of rows) console.log(`${row.label.padEnd(40)}  ${row.p50.toFixed(3).padStart(6)}  ${row.p99.toFixed(3).padStart(6)}  ${(row.p50 - direct).toFixed(3)}`);

  const invoke = await measureHttp({ url: `${hub.url}/v1/plugins/bench-trivial/invoke`, method: "POST", headers, body: invokeBody(1), connections: 50, durationSeconds: 5 });
  const whoami = await measureHttp({ url: `${hub.url}/v1/whoami`, headers, connections: 50, durationSeconds: 5 });
  printComparison("Hub HTTP at concurrency 50 (autocannon, 5 s)", [{ name: "GET /v1/whoami (no plugin)", result: whoami }, { name: "POST …/bench-trivial/invoke", result: invoke }], ["GET /v1/whoami (no plugin)"]);

  // Direct and bridged runs alternate, 2 s each, five rounds: background load on a shared machine
  // then weighs on both sides of each ratio alike. The ratio quoted is the median of the rounds.
  // Both paths are warmed up first, as the sequential cases are: V8 compiles the fetch path of
  // the runner and of the isolate in the first second or two, and that is not the steady state.
  const directFetch = async (): Promise<void> => {
    const response = await request(`${upstreamUrl}/customers/C-1`, { dispatcher: agent });
    await response.body.json();
  };
  const bridgedFetch = (): Promise<unknown> => hub.hub.plugins.invoke("bench-fetch", "getCustomer", { customerId: "C-1" });
  await concurrent(directFetch, 1);
  await concurrent(bridgedFetch, 2);
  const rounds: { direct: number; bridge: number; failures: number; cpu: number[] }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const directRun = await concurrent(directFetch, 2);
    const cpuBefore = [cpuMs(process.pid), cpuMs(hub.hub.plugins.runnerPid), cpuMs(upstream.pid)];
    const bridgeRun = await concurrent(bridgedFetch, 2);
    const cpu = [cpuMs(process.pid), cpuMs(hub.hub.plugins.runnerPid), cpuMs(upstream.pid)].map((after, i) => ((after - (cpuBefore[i] ?? 0)) * 1000) / (bridgeRun.rate * 2));
    rounds.push({ direct: directRun.rate, bridge: bridgeRun.rate, failures: directRun.failures + bridgeRun.failures, cpu });
  }
  const trivialRun = await concurrent(() => hub.hub.plugins.invoke("bench-trivial", "getCustomer", { customerId: "C-1" }), 2);
  console.log(`\nOne fetch to a local server, concurrency 50, after a warm-up; direct and bridge alternate, 2 s each, ${ROUNDS} rounds`);
  console.log("round  undici calls/s  bridge calls/s  × undici  failures  CPU µs per bridged fetch (API / runner / upstream)");
  rounds.forEach((r, i) => {
    const cpu = r.cpu.map((value) => value.toFixed(0)).join(" / ");
    console.log(`${String(i + 1).padEnd(5)}  ${Math.round(r.direct).toLocaleString("en-US").padStart(14)}  ${Math.round(r.bridge).toLocaleString("en-US").padStart(14)}  ${(r.bridge / r.direct).toFixed(2).padStart(8)}  ${String(r.failures).padStart(8)}  ${cpu}`);
  });
  const ratios = rounds.map((r) => r.bridge / r.direct).sort((a, b) => a - b);
  console.log(`median × undici: ${(ratios[Math.floor(ROUNDS / 2)] ?? NaN).toFixed(2)} (target ≥ 0.50); trivial plugin method, no fetch: ${Math.round(trivialRun.rate).toLocaleString("en-US")} calls/s`);
  await agent.close();
} finally {
  await hub.close();
  await stop(upstream);
  rmSync(dir, { recursive: true, force: true });
}
