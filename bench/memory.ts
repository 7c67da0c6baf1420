// Issue 15, item 7: the hub's memory (its process plus the plugin runner), idle after start and
// under load: delivery at BENCH_RATE events/s, BENCH_CONNECTIONS live WebSocket connections and
// BENCH_SESSIONS open sessions. Targets: idle < 150 MB, loaded < 512 MB (the seed's figure).
// The default is scaled down to run in about a minute; the full figure:
//   BENCH_SESSIONS=100000 BENCH_CONNECTIONS=10000 BENCH_RATE=500 node bench/memory.ts
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { WebSocket } from "ws";
import { createEventPoster } from "./lib/event-poster.ts";
import { paced, sleep } from "./lib/pacing.ts";
import { freePort, startHub } from "./lib/processes.ts";
import { treeMemory, type TreeMemory } from "./lib/process-tree.ts";
import { spreadOf } from "./lib/run-stats.ts";
import { seedSessions } from "./lib/session-seed.ts";
import { printVerdicts, type Verdict } from "./lib/verdict.ts";
import { startWebhookReceiver } from "./lib/webhook-receiver.ts";

const KNOBS = {
  sessions: Number(process.env["BENCH_SESSIONS"] ?? 20_000),
  connections: Number(process.env["BENCH_CONNECTIONS"] ?? 2_000),
  rate: Number(process.env["BENCH_RATE"] ?? 500),
  loadSeconds: Number(process.env["BENCH_LOAD_SECONDS"] ?? 20),
  idleSeconds: Number(process.env["BENCH_IDLE_SECONDS"] ?? 5),
};
const REDIS_URL = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
const API_KEY = "bench-memory-admin-key-0001";
const MIB = (value: number): string => `${value.toFixed(0)} MiB`;

/** Opens `count` live connections with one agent token, a few hundred at a time (the accept backlog). */
async function openConnections(url: string, token: string, count: number): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let first = 0; first < count; first += 250) {
    const batch = Array.from({ length: Math.min(250, count - first) }, () => {
      const socket = new WebSocket(`${url.replace("http", "ws")}/v1/live?token=${encodeURIComponent(token)}`, "kefu.v1.json", { perMessageDeflate: false });
      sockets.push(socket);
      return new Promise<void>((resolve, reject) => socket.once("open", resolve).once("error", reject));
    });
    await Promise.all(batch);
  }
  return sockets;
}

const describe = (m: TreeMemory): string => `RSS ${MIB(m.total)} (hub ${MIB(m.hub)}, runner ${MIB(m.runner)}), PSS ${MIB(m.pss)}`;
const HUB_ENV = { REDIS_URL, KEFU_API_KEYS: `${API_KEY}=admin`, KEFU_LOG_LEVEL: "warn", KEFU_DEMO_BUSINESS_SYSTEM: "false", KEFU_PLUGIN_WATCH: "false", KEFU_DELIVERY_ALLOW_CIDRS: "127.0.0.0/8" };

// Idle: a fresh hub (no sessions, no traffic), measured BENCH_IDLE_SECONDS after /readyz.
const fresh = await startHub(HUB_ENV, await freePort(), { bundled: true });
await sleep(KNOBS.idleSeconds * 1000);
const idle = treeMemory(fresh.child.pid ?? NaN);
await fresh.stop();

// Loaded: a hub that starts with BENCH_SESSIONS open sessions, then takes the connections and the events.
const prefix = `bench-${randomUUID().slice(0, 8)}`;
const redis = new Redis(REDIS_URL);
await seedSessions(redis, prefix, KNOBS.sessions, { nowMs: Date.now() });
redis.disconnect();
const port = await freePort();
const hub = await startHub(HUB_ENV, port, { prefix, readyTimeoutMs: 120_000, bundled: true });
const url = `http://127.0.0.1:${port}`;
const pid = hub.child.pid ?? NaN;
const receiver = await startWebhookReceiver();
const poster = createEventPoster({ url, apiKey: API_KEY, tag: prefix, sessions: 200, connections: 20 });
let sockets: WebSocket[] = [];
try {
  await sleep(KNOBS.idleSeconds * 1000);
  const seeded = treeMemory(pid);
  const created = await poster.call("POST", "/v1/subscriptions", { url: receiver.url, events: ["*"] });
  if (created.status !== 201) throw new Error(`POST /v1/subscriptions answered ${created.status}`);
  const token = await poster.call("POST", "/v1/live/tokens", { role: "agent", id: "A-bench" });
  const tokenText = (token.body as { token?: unknown } | undefined)?.token;
  if (token.status !== 201 || typeof tokenText !== "string") throw new Error(`POST /v1/live/tokens answered ${token.status}`);
  sockets = await openConnections(url, tokenText, KNOBS.connections);

  // The peak of samples taken every 500 ms while events are posted at the rate (by total RSS).
  let peak = treeMemory(pid);
  const sampler = setInterval(() => {
    const now = treeMemory(pid);
    if (now.total > peak.total) peak = now;
  }, 500);
  const count = KNOBS.rate * KNOBS.loadSeconds;
  await paced(0, count, KNOBS.rate, (i) => poster.post(i));
  await receiver.waitForAll(Array.from({ length: count }, (_, i) => poster.id(i)), 60_000, "deliveries");
  clearInterval(sampler);

  console.log("\nMemory of kefu-hub start: its process plus the plugin runner (RSS sums count the shared node binary twice; PSS once)");
  console.log(`idle, fresh: ${describe(idle)}`);
  console.log(`idle, ${KNOBS.sessions.toLocaleString("en-US")} open sessions loaded: ${describe(seeded)}`);
  console.log(
    `peak under load: ${describe(peak)} — ${KNOBS.rate} events/s for ${KNOBS.loadSeconds} s, all ${count.toLocaleString("en-US")} delivered, ` +
      `${sockets.filter((s) => s.readyState === WebSocket.OPEN).length.toLocaleString("en-US")} live connections open`,
  );
  const full = KNOBS.sessions >= 100_000 && KNOBS.connections >= 10_000 && KNOBS.rate >= 500;
  const verdicts: Verdict[] = [
    { figure: "RSS idle after start (hub + runner)", value: spreadOf([idle.total]), unit: " MiB", baseline: `PSS ${MIB(idle.pss)}`, target: "< 150 MB", pass: idle.total < 150 },
    {
      figure: `RSS under load (hub + runner)${full ? "" : ", scaled down"}`,
      value: spreadOf([peak.total]),
      unit: " MiB",
      baseline: `PSS ${MIB(peak.pss)}`,
      target: "< 512 MB",
      pass: peak.total < 512,
    },
  ];
  printVerdicts("Memory (issue 15, item 7)", verdicts);
  if (!full) console.log("The issue's load: BENCH_SESSIONS=100000 BENCH_CONNECTIONS=10000 BENCH_RATE=500 node bench/memory.ts");
} finally {
  for (const socket of sockets) socket.terminate();
  await poster.close();
  await receiver.close();
  await hub.stop();
}
