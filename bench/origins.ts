// Memory of a hub that delivers to many receiver origins: RSS of `kefu-hub start` as subscriptions
// to distinct origins (host:port on 127.0.0.0/8) are added in waves, against the same number of
// subscriptions and deliveries spread over a few origins. Per-origin state (an undici Pool and a
// breaker per origin) is what the difference shows.
// Run: node_modules/.bin/node bench/origins.ts (only 127.x.y.z; stops by itself).
import { randomUUID } from "node:crypto";
import { createEventPoster, type EventPoster } from "./lib/event-poster.ts";
import { startHubCluster } from "./lib/hub-cluster.ts";
import { collectGarbage } from "./lib/inspector-gc.ts";
import { startOriginReceivers, type OriginReceivers } from "./lib/origin-receivers.ts";
import { freePort } from "./lib/processes.ts";
import { sleep } from "./lib/pacing.ts";
import { rssKibOf } from "./lib/proc-stats.ts";
import { formatFigure, printTable } from "./lib/run-stats.ts";

const number = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
};
const SUBSCRIPTIONS = number("BENCH_ORIGINS", 10_000);
const WAVE = number("BENCH_WAVE", 1000);
const PORTS = number("BENCH_PORTS", 20);
const BASELINE_ORIGINS = number("BENCH_BASELINE_ORIGINS", 10);
/** Pause after a wave's deliveries before reading, so that sockets the receivers close are gone. */
const SETTLE_MS = number("BENCH_SETTLE_MS", 1000);
const REDIS_URL = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
const API_KEY = "bench-admin-key-000001";

interface Sample {
  subscriptions: number;
  origins: number;
  deliveries: number;
  /** VmRSS, what an operator sees. */
  rssMib: number;
  /** V8 heap in use after a full collection: what the hub retains. */
  liveHeapMib: number;
  /** Webhook-origin breakers the hub holds (from kefu_breaker_state): what an LRU bound would cap. */
  breakers: number;
}

/** RSS, then a full GC through the inspector, then the heap in use and the breakers from /metrics. */
async function read(poster: EventPoster, pid: number | undefined, inspectPort: number): Promise<Pick<Sample, "rssMib" | "liveHeapMib" | "breakers">> {
  const rssMib = rssKibOf(pid) / 1024;
  await collectGarbage(inspectPort);
  const { status, text } = await poster.call("GET", "/metrics");
  if (status !== 200) throw new Error(`GET /metrics answered ${status}`);
  const heap = Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1]);
  return { rssMib, liveHeapMib: heap / 2 ** 20, breakers: text.match(/^kefu_breaker_state\{[^}]*origin="http/gm)?.length ?? 0 };
}

/** Creates subscriptions `from … to - 1` (20 at a time), subscription j to origin `originOf(j)`. */
async function subscribe(poster: EventPoster, receivers: OriginReceivers, from: number, to: number, originOf: (j: number) => number): Promise<void> {
  let next = from;
  await Promise.all(Array.from({ length: 20 }, async () => {
    for (let j = next++; j < to; j = next++) {
      const { status } = await poster.call("POST", "/v1/subscriptions", { url: receivers.urlOf(originOf(j), j), events: ["chat.message.created"] });
      if (status !== 201) throw new Error(`POST /v1/subscriptions answered ${status}`);
    }
  }));
}

/** One hub; each wave adds WAVE subscriptions, then one event is delivered to every subscription so far. */
async function measure(receivers: OriginReceivers, distinctOrigins: number): Promise<Sample[]> {
  // The inspector, on loopback, only to trigger full collections before each reading.
  const inspectPort = await freePort();
  const cluster = await startHubCluster({ redisUrl: REDIS_URL, apiKeys: `${API_KEY}=admin`, hubNodeArgs: [`--inspect=127.0.0.1:${inspectPort}`] });
  const poster = createEventPoster({ url: cluster.url, apiKey: API_KEY, tag: randomUUID().slice(0, 8), sessions: 1, connections: 20 });
  const pid = cluster.pids[0];
  const originOf = (j: number): number => j % distinctOrigins;
  try {
    const samples: Sample[] = [{ subscriptions: 0, origins: 0, deliveries: 0, ...(await read(poster, pid, inspectPort)) }];
    let deliveries = 0;
    for (let wave = 0, total = 0; total < SUBSCRIPTIONS; wave++) {
      const upTo = Math.min(SUBSCRIPTIONS, total + WAVE);
      await subscribe(poster, receivers, total, upTo, originOf);
      total = upTo;
      await poster.post(wave);
      await receivers.waitForCount(poster.id(wave), total, 180_000);
      deliveries += total;
      await sleep(SETTLE_MS);
      samples.push({ subscriptions: total, origins: Math.min(total, distinctOrigins), deliveries, ...(await read(poster, pid, inspectPort)) });
      process.stdout.write(".");
    }
    return samples;
  } finally {
    await poster.close();
    await cluster.stop();
  }
}

function report(distinct: Sample[], baseline: Sample[]): void {
  console.log(`\n\nhub memory after each wave of ${WAVE} subscriptions (each wave's event goes to every subscription so far); live heap after a full GC`);
  const lines = distinct.map((d, w) => {
    const b = baseline[w];
    const cells = (x: Sample | undefined): string[] => [formatFigure(x?.rssMib ?? NaN, 1), formatFigure(x?.liveHeapMib ?? NaN, 1), String(x?.breakers ?? "-")];
    return [String(w), String(d.subscriptions), String(d.deliveries), ...cells(d), ...cells(b)];
  });
  const side = (origins: number): string[] => [`RSS MiB (${origins} origins)`, "live heap MiB", "breakers"];
  printTable(["wave", "subscriptions", "deliveries", ...side(SUBSCRIPTIONS), ...side(BASELINE_ORIGINS)], lines);
  // From wave 2: wave 1 includes what any first delivery warms up (code, buffers, connections to Redis).
  const from = Math.min(2, distinct.length - 1);
  const at = (samples: Sample[], index: number, of: (s: Sample) => number): number => {
    const sample = samples[index];
    return sample ? of(sample) : NaN;
  };
  const last = (samples: Sample[], of: (s: Sample) => number): number => at(samples, samples.length - 1, of);
  const growth = (samples: Sample[], of: (s: Sample) => number): number => last(samples, of) - at(samples, from, of);
  const addedOrigins = last(distinct, (x) => x.origins) - at(distinct, from, (x) => x.origins);
  for (const [label, of] of [["RSS", (x: Sample) => x.rssMib], ["live heap", (x: Sample) => x.liveHeapMib]] as const) {
    const [gd, gb] = [growth(distinct, of), growth(baseline, of)];
    console.log(
      `${label}: growth from wave ${from} to the last ${formatFigure(gd, 1)} MiB with distinct origins, ${formatFigure(gb, 1)} MiB with ${BASELINE_ORIGINS}; ` +
        `difference per added origin ${formatFigure(((gd - gb) * 1024) / addedOrigins, 1)} KiB; at the end distinct / ${BASELINE_ORIGINS} origins ${formatFigure(last(distinct, of) / last(baseline, of))}×`,
    );
  }
}

const started = performance.now();
const receivers = await startOriginReceivers(PORTS);
try {
  console.log(`origins: ${SUBSCRIPTIONS} subscriptions in waves of ${WAVE}, to ${SUBSCRIPTIONS} distinct origins, then to ${BASELINE_ORIGINS} (${PORTS} receiver ports on 127.0.0.0/8)`);
  if (SUBSCRIPTIONS > PORTS * 250 * 256) throw new Error("BENCH_ORIGINS too large for BENCH_PORTS");
  const distinct = await measure(receivers, SUBSCRIPTIONS);
  const baseline = await measure(receivers, BASELINE_ORIGINS);
  report(distinct, baseline);
  console.log(`(${((performance.now() - started) / 1000).toFixed(0)} s)`);
} finally {
  await receivers.close();
}
