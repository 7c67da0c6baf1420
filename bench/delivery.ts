// Event ingest → webhook delivery, against its two ceilings measured in the same run:
// direct undici POSTs to the same receiver, and bare BullMQ add → process on the same Redis.
// Run: node_modules/.bin/node bench/delivery.ts (only 127.0.0.1; stops by itself).
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { Pool } from "undici";
import { freePort } from "../src/net/free-port.ts";
import { deleteKeysAt } from "../test/helpers/delete-keys.ts";
import { hubNodeArgs } from "./lib/hub-node-args.ts";

const REDIS_URL = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
const RATE = 500; // events/s for the latency runs
const LATENCY_SECONDS = 6;
const BURST = 5000; // events for the throughput runs
const CONCURRENCY = 64;
const WARM_UP = 2000;
const KEY = "bench-admin-key-000001";

interface Row {
  name: string;
  throughput: number;
  /** How fast the sends themselves were answered (202s, adds, 204s). */
  sendRate: number;
  p50: number;
  p99: number;
  /** CPU µs per event during the throughput run: the process(es) under test, this bench process, Redis. */
  cpu: { tested: number; bench: number; redis: number };
}

/** Receipt times by event id; a resolver per id being waited for. */
interface Receiver {
  url: string;
  arrivals: Map<string, number>;
  server: Server;
}

async function startReceiver(): Promise<Receiver> {
  const arrivals = new Map<string, number>();
  const server = createServer((req, res) => {
    const id = String(req.headers["webhook-id"] ?? req.headers["x-id"]);
    req.resume();
    req.on("end", () => {
      arrivals.set(id, performance.now());
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals, server };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Sends `count` items at `rate`/s (not waiting for answers); returns the send time of each. */
async function paced(count: number, rate: number, send: (i: number) => Promise<unknown>): Promise<number[]> {
  const started = performance.now();
  const sentAt: number[] = [];
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    sentAt[i] = performance.now();
    pending.push(send(i));
  }
  await Promise.all(pending);
  return sentAt;
}

/** Sends `count` items keeping `concurrency` in flight; returns when all were answered. */
async function burst(count: number, concurrency: number, send: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await send(next++);
  }));
}

/** CPU time (ms) of a process so far, from /proc (Linux); NaN elsewhere. */
function cpuMsOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    // utime and stime (fields 14 and 15 of stat(5)), in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

let redisPid: number | undefined;
async function readRedisPid(): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    redisPid = Number(/process_id:(\d+)/.exec(await redis.info("server"))?.[1]);
  } finally {
    redis.disconnect();
  }
}

/** CPU ms so far of the tested processes (`pids`), this process and Redis. */
function cpuSnapshot(pids: readonly (number | undefined)[]): { tested: number; bench: number; redis: number } {
  const own = process.cpuUsage();
  const bench = (own.user + own.system) / 1000;
  const tested = pids.length === 0 ? bench : pids.reduce((sum: number, pid) => sum + cpuMsOf(pid), 0);
  return { tested, bench, redis: cpuMsOf(redisPid) };
}

async function measure(name: string, ids: (i: number) => string, arrivals: Map<string, number>, send: (i: number) => Promise<unknown>, pids: readonly (number | undefined)[] = []): Promise<Row> {
  // Warm-up (JIT, connections, lazily built parts), not counted: steady state is what is compared.
  const warmUp = WARM_UP;
  await burst(warmUp, 8, (i) => send(i));
  await waitFor(() => Array.from({ length: warmUp }, (_, i) => ids(i)).every((id) => arrivals.has(id)), 30_000, `${name} warm-up`);
  const base = warmUp;
  const count = RATE * LATENCY_SECONDS;
  const sentAt = await paced(count, RATE, (i) => send(base + i));
  await waitFor(() => Array.from({ length: count }, (_, i) => ids(base + i)).every((id) => arrivals.has(id)), 30_000, `${name} latency run`);
  const unsorted = sentAt.map((at, i) => (arrivals.get(ids(base + i)) ?? NaN) - at);
  // BENCH_TAIL=1 prints when the slowest events were sent: clustered offsets mean a stall, not a queue.
  if (process.env["BENCH_TAIL"]) {
    const slowest = unsorted.map((ms, i) => ({ ms, at: (sentAt[i] ?? 0) - (sentAt[0] ?? 0) })).sort((a, b) => b.ms - a.ms).slice(0, 40);
    console.log(name, "slowest (latency ms @ send offset ms):", slowest.map((s) => `${s.ms.toFixed(1)}@${s.at.toFixed(0)}`).join(" "));
  }
  const latencies = [...unsorted].sort((a, b) => a - b);

  const offset = base + count;
  const cpuBefore = cpuSnapshot(pids);
  const started = performance.now();
  await burst(BURST, CONCURRENCY, (i) => send(offset + i));
  const sentAll = performance.now();
  await waitFor(() => Array.from({ length: BURST }, (_, i) => ids(offset + i)).every((id) => arrivals.has(id)), 60_000, `${name} throughput run`);
  const last = Math.max(...Array.from({ length: BURST }, (_, i) => arrivals.get(ids(offset + i)) ?? 0));
  const cpuAfter = cpuSnapshot(pids);
  const perEvent = (ms: number): number => (ms * 1000) / BURST;
  const cpu = { tested: perEvent(cpuAfter.tested - cpuBefore.tested), bench: perEvent(cpuAfter.bench - cpuBefore.bench), redis: perEvent(cpuAfter.redis - cpuBefore.redis) };
  return { name, cpu, throughput: (BURST * 1000) / (last - started), sendRate: (BURST * 1000) / (sentAll - started), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function directUndici(receiver: Receiver): Promise<Row> {
  const pool = new Pool(receiver.url, { connections: CONCURRENCY });
  const run = randomUUID().slice(0, 8);
  const id = (i: number): string => `direct-${run}-${i}`;
  const body = JSON.stringify({ type: "chat.message.created", timestamp: new Date().toISOString(), data: { text: "hello" } });
  try {
    return await measure("direct undici POST (ceiling)", id, receiver.arrivals, async (i) => {
      const response = await pool.request({ path: "/", method: "POST", headers: { "content-type": "application/json", "x-id": id(i) }, body });
      await response.body.dump();
    });
  } finally {
    await pool.close();
  }
}

async function bareBullmq(): Promise<Row> {
  const prefix = `{bench-bare-${randomUUID().slice(0, 8)}}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const arrivals = new Map<string, number>();
  const queue = new Queue("bare", { connection, prefix, defaultJobOptions: { removeOnComplete: true } });
  const worker = new Worker("bare", async (job) => void arrivals.set(String(job.id), performance.now()), { connection, prefix, concurrency: 50 });
  await worker.waitUntilReady();
  const id = (i: number): string => `bare-${i}`;
  try {
    // Same job options as deliveries: a priority, attempts with a custom backoff.
    return await measure("bare BullMQ add → process (queue ceiling)", id, arrivals, (i) =>
      queue.add("job", { i, event: { type: "chat.message.created", data: { text: "hello" } } }, { jobId: id(i), priority: 3, attempts: 8, backoff: { type: "webhook" } }),
    );
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
  }
}

/** `workers` > 0: the hub only serves the API and that many `kefu-hub worker` processes deliver. */
async function kefuHub(receiver: Receiver, workers: number): Promise<Row> {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const port = await freePort();
  const extraArgs = hubNodeArgs();
  const cli = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
  const env = {
    PATH: process.env["PATH"] ?? "",
    PORT: String(port),
    HOST: "127.0.0.1",
    REDIS_URL,
    KEFU_REDIS_PREFIX: prefix,
    KEFU_API_KEYS: `${KEY}=admin`,
    KEFU_DELIVERY_ALLOW_CIDRS: "127.0.0.0/8",
    KEFU_LOG_LEVEL: "warn",
    KEFU_LOG_FORMAT: "json",
    KEFU_PLUGIN_WATCH: "false",
    KEFU_DELIVERY_WORKERS: workers > 0 ? "false" : "true",
    // KEFU_* of the bench's own environment win, for experiments (e.g. KEFU_DELIVERY_CONCURRENCY).
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith("KEFU_"))),
  };
  const hub = spawn(process.execPath, [...extraArgs, cli, "start"], { env, stdio: ["ignore", "inherit", "inherit"] });
  const workerProcesses = Array.from({ length: workers }, () => spawn(process.execPath, [...extraArgs, cli, "worker"], { env, stdio: ["ignore", "inherit", "inherit"] }));
  const url = `http://127.0.0.1:${port}`;
  const pool = new Pool(url, { connections: CONCURRENCY });
  const call = async (path: string, body: unknown): Promise<number> => {
    const response = await pool.request({ path, method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    await response.body.dump();
    return response.statusCode;
  };
  try {
    await waitFor(() => hub.exitCode === null, 100, "the hub to start");
    await waitForReady(url, hub);
    if ((await call("/v1/subscriptions", { url: `${receiver.url}/kefu`, events: ["chat.*"] })) !== 201) throw new Error("subscription refused");
    const run = randomUUID().slice(0, 8);
    const id = (i: number): string => `evt_${run}-${i}`;
    // chat.message.created: a type routing leaves alone, so this measures the delivery pipeline.
    const name = workers > 0 ? `kefu-hub API + ${workers} \`kefu-hub worker\`` : "kefu-hub ingest → delivered";
    return await measure(name, id, receiver.arrivals, async (i) => {
      const status = await call("/v1/events", {
        id: id(i),
        type: "chat.message.created",
        occurredAt: new Date().toISOString(),
        source: "bench",
        data: { sessionId: "S-1", messageId: `M-${i}`, sender: { type: "customer", id: "C-1" }, text: "Where is my parcel?" },
      });
      if (status !== 202) throw new Error(`ingest answered ${status}`);
    }, [hub.pid, ...workerProcesses.map((child) => child.pid)]);
  } finally {
    await pool.close();
    await Promise.all([hub, ...workerProcesses].map(stopChild));
    await deleteKeysAt(REDIS_URL, prefix);
  }
}

async function waitForReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error("the hub exited");
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("the hub did not get ready");
    await sleep(100);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await Promise.race([exited, sleep(15_000)]);
  if (child.exitCode === null) child.kill("SIGKILL");
}



function print(rows: Row[]): void {
  const bare = rows.find((r) => r.name.startsWith("bare"));
  const direct = rows.find((r) => r.name.startsWith("direct"));
  console.log(`\nwebhook delivery: latency at ${RATE} events/s for ${LATENCY_SECONDS} s (send → receipt at the receiver), throughput over ${BURST} events with ${CONCURRENCY} in flight`);
  const header = ["case", "events/s", "sent/s", "p50 ms", "p99 ms", "× bare BullMQ", "× direct undici", "CPU µs/event: tested", "bench", "redis"];
  const lines = rows.map((r) => [
    r.name,
    Math.round(r.throughput).toLocaleString("en-US"),
    Math.round(r.sendRate).toLocaleString("en-US"),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    bare ? (r.throughput / bare.throughput).toFixed(2) : "-",
    direct ? (r.throughput / direct.throughput).toFixed(2) : "-",
    // For the first two cases the tested code runs in the bench process itself.
    Math.round(r.cpu.tested).toString(),
    Math.round(r.cpu.bench).toString(),
    Math.round(r.cpu.redis).toString(),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const format = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
  console.log(format(header));
  for (const line of lines) console.log(format(line));
  const kefu = rows.find((r) => r.name.startsWith("kefu-hub ingest"));
  if (kefu && bare) {
    console.log(`\ntargets: p99 < 20 ms at ${RATE}/s → ${kefu.p99.toFixed(2)} ms ${kefu.p99 < 20 ? "met" : "MISSED"}; throughput ≥ 0.5 × bare BullMQ → ${(kefu.throughput / bare.throughput).toFixed(2)} ${kefu.throughput / bare.throughput >= 0.5 ? "met" : "MISSED"}`);
  }
}

await readRedisPid();
const receiver = await startReceiver();
try {
  // BENCH_CASES=bare,hub runs a subset (for quicker experiments); ratios need `bare` in the same run.
  const cases = new Set((process.env["BENCH_CASES"] ?? "direct,bare,hub,worker").split(","));
  const rows: Row[] = [];
  if (cases.has("direct")) rows.push(await directUndici(receiver));
  if (cases.has("bare")) rows.push(await bareBullmq());
  if (cases.has("hub")) rows.push(await kefuHub(receiver, 0));
  if (cases.has("worker")) rows.push(await kefuHub(receiver, 1));
  print(rows);
} finally {
  receiver.server.closeAllConnections();
  receiver.server.close();
}
