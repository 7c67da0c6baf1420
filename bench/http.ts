// HTTP layer cost: kefu-hub's /healthz and authenticated /v1/whoami against raw node:http and a
// bare express 5 app answering the same small JSON, all measured in this run.
// Env: BENCH_SECONDS (default 8), BENCH_CONNECTIONS (default 50).
import { randomUUID } from "node:crypto";
import { measureHttp, printComparison, type LoadResult } from "./lib/load.ts";
import { forkServer, freePort, startHub, stop } from "./lib/processes.ts";

const seconds = Number(process.env["BENCH_SECONDS"] ?? 8);
const connections = Number(process.env["BENCH_CONNECTIONS"] ?? 50);
const apiKey = `bench-${randomUUID()}`;

async function measure(url: string, headers: Record<string, string> = {}): Promise<LoadResult> {
  await measureHttp({ url, headers, connections, durationSeconds: 2 }); // warm-up: JIT, connection pool
  return measureHttp({ url, headers, connections, durationSeconds: seconds });
}

const rows: { name: string; result: LoadResult }[] = [];

const rawPort = await freePort();
const raw = await forkServer(new URL("./servers/raw-http.ts", import.meta.url), rawPort);
rows.push({ name: "raw node:http", result: await measure(`http://127.0.0.1:${rawPort}/healthz`) });
await stop(raw);

const expressPort = await freePort();
const bare = await forkServer(new URL("./servers/bare-express.ts", import.meta.url), expressPort);
rows.push({ name: "bare express", result: await measure(`http://127.0.0.1:${expressPort}/healthz`) });
await stop(bare);

const hubPort = await freePort();
const hub = await startHub(
  { KEFU_API_KEYS: `${apiKey}=read`, KEFU_REDIS_PREFIX: `bench-${randomUUID().slice(0, 8)}`, KEFU_LOG_LEVEL: "info", KEFU_DEMO: "off" },
  hubPort,
);
rows.push({ name: "kefu-hub /healthz", result: await measure(`http://127.0.0.1:${hubPort}/healthz`) });
rows.push({
  name: "kefu-hub /v1/whoami (auth)",
  result: await measure(`http://127.0.0.1:${hubPort}/v1/whoami`, { authorization: `Bearer ${apiKey}` }),
});
await stop(hub);

printComparison(`HTTP layer — ${connections} connections, ${seconds} s each, keep-alive, logs at info`, rows, ["raw node:http", "bare express"]);
