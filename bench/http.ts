// HTTP layer cost: kefu-hub's /healthz and authenticated /v1/whoami against raw node:http and a
// bare express 5 app answering the same small JSON, all measured in this run. The three servers
// run side by side and the cases take turns for several rounds, each keeping its median round, so
// that a passing disturbance on the (shared, 2-core) machine weighs on every case alike.
// Env: BENCH_SECONDS per round (default 4), BENCH_ROUNDS (default 3), BENCH_CONNECTIONS (default 50).
import { randomUUID } from "node:crypto";
import { measureHttp, printComparison, type LoadOptions, type LoadResult } from "./lib/load.ts";
import { forkServer, freePort, startHub, stop } from "./lib/processes.ts";

const seconds = Number(process.env["BENCH_SECONDS"] ?? 4);
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 3);
const connections = Number(process.env["BENCH_CONNECTIONS"] ?? 50);
const apiKey = `bench-${randomUUID()}`;

const rawPort = await freePort();
const expressPort = await freePort();
const hubPort = await freePort();
const baselines = [
  await forkServer(new URL("./servers/raw-http.ts", import.meta.url), rawPort),
  await forkServer(new URL("./servers/bare-express.ts", import.meta.url), expressPort),
];
const hub = await startHub({ KEFU_API_KEYS: `${apiKey}=read`, KEFU_LOG_LEVEL: "info", KEFU_DEMO_BUSINESS_SYSTEM: "false" }, hubPort);

const cases: { name: string; load: LoadOptions }[] = [
  { name: "raw node:http", load: { url: `http://127.0.0.1:${rawPort}/healthz` } },
  { name: "bare express", load: { url: `http://127.0.0.1:${expressPort}/healthz` } },
  { name: "kefu-hub /healthz", load: { url: `http://127.0.0.1:${hubPort}/healthz` } },
  { name: "kefu-hub /v1/whoami (auth)", load: { url: `http://127.0.0.1:${hubPort}/v1/whoami`, headers: { authorization: `Bearer ${apiKey}` } } },
];

const results = new Map<string, LoadResult[]>(cases.map((c) => [c.name, []]));
for (const { load } of cases) await measureHttp({ ...load, connections, durationSeconds: 2 }); // warm-up: JIT, sockets
for (let round = 0; round < rounds; round += 1) {
  for (const { name, load } of cases) results.get(name)?.push(await measureHttp({ ...load, connections, durationSeconds: seconds }));
}
for (const server of baselines) await stop(server);
await hub.stop();

const median = (runs: LoadResult[]): LoadResult => {
  const sorted = [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  return sorted[Math.floor(sorted.length / 2)] as LoadResult;
};
printComparison(
  `HTTP layer — ${connections} connections, median of ${rounds} interleaved rounds of ${seconds} s, keep-alive, hub logs at info`,
  cases.map(({ name }) => ({ name, result: median(results.get(name) ?? []) })),
  ["raw node:http", "bare express"],
);
