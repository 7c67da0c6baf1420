// Hub memory under hostile traffic (issue 13 B): the fuzz's requests, five identical runs of
// ~10.5k each against `kefu-hub start`; after each, a full GC (through the inspector), then RSS and
// the live heap. A leak grows the live heap every run; a process that settles grows RSS in the
// first runs (V8 and malloc keeping pages) and stays flat after.
import { hostileRequests, operationsOf, type HostileRequest } from "../test/helpers/hostile-requests.ts";
import { hubNodeArgs } from "./lib/hub-node-args.ts";
import { collectGarbage } from "./lib/inspector-gc.ts";
import { freePort, startHub } from "./lib/processes.ts";
import { rssKibOf } from "./lib/proc-stats.ts";

const KEY = "bench-hostile-admin-key-0001";
const RUNS = Number(process.env["KEFU_BENCH_RUNS"] ?? 5);
const PER_OPERATION = Number(process.env["KEFU_BENCH_PER_OPERATION"] ?? 300);
const CONCURRENCY = 8;

const port = await freePort();
// The inspector, on loopback, only to trigger full collections before each reading.
const inspectPort = await freePort();
process.env["BENCH_HUB_NODE_ARGS"] = [...hubNodeArgs(), `--inspect=127.0.0.1:${inspectPort}`].join(" ");
const hub = await startHub({ KEFU_API_KEYS: `${KEY}=admin`, KEFU_LOG_LEVEL: "warn", KEFU_DEMO_BUSINESS_SYSTEM: "true", KEFU_DEMO_BUSINESS_SYSTEM_PORT: String(await freePort()), KEFU_PLUGIN_WATCH: "false" }, port);
const base = `http://127.0.0.1:${port}`;

async function heapUsedMib(): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? NaN) / 2 ** 20;
}

async function run(requests: readonly HostileRequest[]): Promise<{ fiveXx: number; noAnswer: number; ms: number }> {
  let next = 0;
  let fiveXx = 0;
  let noAnswer = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests.length) {
        const request = requests[next++] as HostileRequest;
        try {
          const response = await fetch(base + request.url, { method: request.method, headers: request.headers, ...(request.body === undefined ? {} : { body: request.body }) });
          await response.arrayBuffer();
          if (response.status >= 500) fiveXx++;
        } catch {
          noAnswer++;
        }
      }
    }),
  );
  return { fiveXx, noAnswer, ms: performance.now() - started };
}

try {
  const document = (await (await fetch(`${base}/openapi.json`)).json()) as Parameters<typeof operationsOf>[0];
  const operations = operationsOf(document);
  const requests = hostileRequests(operations, { seed: 20261130, perOperation: PER_OPERATION, authorizations: [`Bearer ${KEY}`] });
  console.log(`hostile traffic — ${operations.length} operations × ${PER_OPERATION} = ${requests.length} requests a run, ${CONCURRENCY} in flight, same seed each run`);
  console.log("after      RSS MiB  Δ RSS   live heap MiB  ≥500  no answer  s");
  await collectGarbage(inspectPort);
  const rss0 = rssKibOf(hub.child.pid) / 1024;
  console.log(`start      ${rss0.toFixed(0).padStart(7)}  ${"".padStart(6)}  ${(await heapUsedMib()).toFixed(1).padStart(13)}`);
  let previous = rss0;
  for (let i = 1; i <= RUNS; i++) {
    const result = await run(requests);
    await collectGarbage(inspectPort);
    const rss = rssKibOf(hub.child.pid) / 1024;
    const delta = rss - previous;
    previous = rss;
    console.log(
      `run ${i}      ${rss.toFixed(0).padStart(7)}  ${(delta >= 0 ? "+" : "") + delta.toFixed(0).padStart(5)}  ${(await heapUsedMib()).toFixed(1).padStart(13)}  ${String(result.fiveXx).padStart(4)}  ${String(result.noAnswer).padStart(9)}  ${(result.ms / 1000).toFixed(1)}`,
    );
  }
} finally {
  await hub.stop();
}
