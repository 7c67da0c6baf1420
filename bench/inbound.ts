// Inbound webhooks (issue 14, "Performance"): verified inbound → hub event stored, against the
// hub's own POST /v1/events, in one run on one hub, alternated per round. Both make the same
// order.updated events (no subscriptions, so that delivery is not what is measured).
// Run: node_modules/.bin/node bench/inbound.ts (only 127.0.0.1; stops by itself).
// Env: BENCH_ROUNDS (5), BENCH_COUNT (2000 per side per round), BENCH_CHUNK (250), BENCH_CLIENTS (50),
// BENCH_HUB_NODE_ARGS (the hub's Node flags, e.g. --cpu-prof).
import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { Pool } from "undici";
import { deleteKeysAt } from "../test/helpers/delete-keys.ts";
import { startHubCluster } from "./lib/hub-cluster.ts";
import { sleep } from "./lib/pacing.ts";
import { cpuMsOf } from "./lib/proc-stats.ts";
import { spreadOf } from "./lib/run-stats.ts";
import { printVerdicts } from "./lib/verdict.ts";

const number = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
// On a shared machine the neighbours' load changes by the second: both sides run in alternating
// chunks within each round, and the hub's CPU per delivery is reported beside the wall clock.
const ROUNDS = number("BENCH_ROUNDS", 5);
const COUNT = number("BENCH_COUNT", 2000);
const CHUNK = number("BENCH_CHUNK", 250);
const CLIENTS = number("BENCH_CLIENTS", 50);
const REDIS_URL = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
const ADMIN = `bench-admin-${randomUUID()}`;
const SECRET = "bench-carrier-secret";
const PREFIX = `bench-inbound-${randomUUID().slice(0, 8)}`;

interface Request {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** The pushes of one round, signed before the clock starts: signing is the provider's cost, not the hub's. */
function inboundRequests(round: number): Request[] {
  return Array.from({ length: COUNT }, (_, i) => {
    const body = JSON.stringify({ pushId: `P-${round}-${i}`, carrier: "SF", trackingNo: `SF${i}`, orderId: `SO-${100000 + (i % 300)}`, status: "in_transit", time: new Date().toISOString(), place: "杭州", description: "运输中" });
    const signature = `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
    return { path: "/v1/inbound/bench-carrier", headers: { "content-type": "application/json", "x-carrier-signature": signature }, body };
  });
}

/** The same order.updated events, posted as a chat system would. */
function eventRequests(round: number): Request[] {
  return Array.from({ length: COUNT }, (_, i) => {
    const event = {
      id: `evt_bench-${round}-${i}`, type: "order.updated", occurredAt: new Date().toISOString(), source: "bench",
      data: { orderId: `SO-${100000 + (i % 300)}`, changes: { shipment: { carrier: "SF", trackingNo: `SF${i}`, status: "in_transit", lastEvent: { time: "", place: "杭州", description: "运输中" } } } },
    };
    return { path: "/v1/events", headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` }, body: JSON.stringify(event) };
  });
}

/**
 * Inbound deliveries stored but not yet processed, read from Redis by the bench itself: polling the
 * hub (e.g. /metrics) would spend the hub's CPU in the measurement. A processed delivery's events
 * are stored (ingest resolves once they are durable, before the delivery is marked).
 */
function unprocessed(redis: Redis): Promise<number> {
  return redis.zcard(`${PREFIX}:in:pending`);
}

/** The hub's processes whose CPU counts: `kefu-hub start` and its plugin runner (a child of it). */
/** The hub and its plugin runner: not esbuild's service, which the hub stops between bundles (its pid would read NaN). */
function hubPids(hubPid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${hubPid}/task/${hubPid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // not Linux: wall clock only
  }
  const isRunner = (pid: number): boolean => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("runner-main");
    } catch {
      return false;
    }
  };
  return [hubPid, ...children.filter(isRunner)];
}

interface Totals {
  count: number;
  ms: number;
  cpuMs: number;
}

/**
 * Sends a chunk from CLIENTS concurrent clients, then waits until the hub has stored as many more
 * order.updated events; adds the wall time and the hub's CPU (hub + runner) to `totals`.
 */
async function measureChunk(pool: Pool, requests: readonly Request[], pids: readonly number[], totals: Totals): Promise<void> {
  const cpuBefore = pids.reduce((sum, pid) => sum + cpuMsOf(pid), 0);
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (next < requests.length) {
      const { path, headers, body } = requests[next++] as Request;
      const response = await pool.request({ path, method: "POST", headers, body });
      const text = await response.body.text();
      if (response.statusCode !== 202) throw new Error(`${path} answered ${response.statusCode}: ${text.slice(0, 200)}`);
    }
  }));
  // POST /v1/events answers 202 once stored; an inbound delivery's events are stored after its 202.
  while ((await unprocessed(redis)) > 0) await sleep(2);
  totals.ms += performance.now() - started;
  totals.cpuMs += pids.reduce((sum, pid) => sum + cpuMsOf(pid), 0) - cpuBefore;
  totals.count += requests.length;
}

/** One round: both sides in alternating chunks of CHUNK, so that a neighbour's burst of load falls on both. */
async function round(pool: Pool, index: number, pids: readonly number[]): Promise<{ inbound: Totals; events: Totals }> {
  const inbound: Totals = { count: 0, ms: 0, cpuMs: 0 };
  const events: Totals = { count: 0, ms: 0, cpuMs: 0 };
  const pushes = inboundRequests(index);
  const posts = eventRequests(index);
  for (let at = 0, chunk = 0; at < COUNT; at += CHUNK, chunk++) {
    const sides = [() => measureChunk(pool, pushes.slice(at, at + CHUNK), pids, inbound), () => measureChunk(pool, posts.slice(at, at + CHUNK), pids, events)];
    for (const side of chunk % 2 === 0 ? sides : sides.reverse()) await side();
  }
  return { inbound, events };
}

const hubNodeArgs = (process.env["BENCH_HUB_NODE_ARGS"] ?? "").split(" ").filter(Boolean);
const hub = await startHubCluster({ redisUrl: REDIS_URL, apiKeys: `${ADMIN}=admin`, env: { KEFU_LOG_LEVEL: "error", KEFU_REDIS_PREFIX: PREFIX }, hubNodeArgs });
const redis = new Redis(REDIS_URL);
const pool = new Pool(hub.url, { connections: CLIENTS });
try {
  const put = await pool.request({
    path: "/v1/inbound-sources/bench-carrier", method: "PUT", headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({ verifier: { type: "hmac", secret: SECRET, header: "x-carrier-signature", prefix: "sha256=" }, transform: { plugin: "demo-carrier" }, dedupe: { path: "$.pushId" } }),
  });
  if (put.statusCode !== 201) throw new Error(`PUT source: ${put.statusCode} ${await put.body.text()}`);
  await put.body.dump();
  console.log(`inbound: ${ROUNDS} round(s) of ${COUNT} deliveries per side in alternating chunks of ${CHUNK}, ${CLIENTS} clients, one kefu-hub start (no subscriptions)`);
  const pids = hubPids(hub.pids[0] ?? NaN);
  // Warm-up: JIT, the plugin's isolate, Redis scripts.
  await round(pool, -1, pids);
  const rates = { inbound: [] as number[], events: [] as number[], ratio: [] as number[], cpu: [] as number[], cpuRatio: [] as number[] };
  for (let index = 0; index < ROUNDS; index++) {
    const { inbound, events } = await round(pool, index, pids);
    const inboundRate = inbound.count / (inbound.ms / 1000);
    const eventsRate = events.count / (events.ms / 1000);
    const inboundCpuUs = (inbound.cpuMs * 1000) / inbound.count;
    const eventsCpuUs = (events.cpuMs * 1000) / events.count;
    rates.inbound.push(inboundRate);
    rates.events.push(eventsRate);
    rates.ratio.push(inboundRate / eventsRate);
    rates.cpu.push(inboundCpuUs);
    rates.cpuRatio.push(eventsCpuUs / inboundCpuUs);
    console.log(`round ${index + 1}: inbound ${Math.round(inboundRate)}/s (${Math.round(inboundCpuUs)} µs CPU each), POST /v1/events ${Math.round(eventsRate)}/s (${Math.round(eventsCpuUs)} µs), ratio ${(inboundRate / eventsRate).toFixed(2)}`);
  }
  const ratio = spreadOf(rates.ratio);
  printVerdicts(`Inbound — issue 14 target, median (min–max) of ${ROUNDS} rounds`, [
    { figure: "verified inbound → hub event stored", value: spreadOf(rates.inbound), unit: "/s", ratio, baseline: "POST /v1/events (same run)", target: "≥ 0.7×", pass: ratio.median >= 0.7 },
    { figure: "POST /v1/events → stored", value: spreadOf(rates.events), unit: "/s", target: "baseline" },
    { figure: "hub CPU per inbound delivery (hub + runner)", value: spreadOf(rates.cpu), unit: " µs", ratio: spreadOf(rates.cpuRatio), baseline: "CPU per POST /v1/events", target: "(the ratio a CPU-bound hub would reach)" },
  ]);
  console.log("\ninbound: first POST of a chunk → no delivery of it left unprocessed (its order.updated events stored); events: first POST → last 202. Signatures made before the clock starts. CPU from /proc/<pid>/stat.");
} finally {
  await pool.close();
  await hub.stop();
  redis.disconnect();
  // The hub ran under this bench's prefix, not the cluster's own: delete it here.
  await deleteKeysAt(REDIS_URL, PREFIX);
}
