// Event ingest → signed webhook delivery: kefu-hub against hand-written glue (bench/servers/glue.ts:
// express 5 → BullMQ → undici POST, no store, no dedupe), side by side in one run, repeated.
// Run: node_modules/.bin/node bench/delivery.ts (only 127.0.0.1; stops by itself). Knobs: see KNOBS.
import { CASES, openTarget, type CaseName, type DeliveryTarget } from "./lib/delivery-targets.ts";
import { latencyPhase, throughputPhase, warmUp, type PhaseContext } from "./lib/delivery-phases.ts";
import { printCaseTables, printRatios, type CaseOutcome, type Outcomes } from "./lib/delivery-report.ts";
import { redisPidOf } from "./lib/proc-stats.ts";
import { startWebhookReceiver, type WebhookReceiver } from "./lib/webhook-receiver.ts";

const number = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const value = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not ${raw}`);
  return value;
};

/** Every knob, with the default a full run uses (≈ 4 minutes for 3 runs of the four cases). */
const KNOBS = {
  runs: number("BENCH_RUNS", 3),
  rate: number("BENCH_RATE", 500),
  latencySeconds: number("BENCH_LATENCY_SECONDS", 6),
  warmUp: number("BENCH_WARMUP", 2000),
  burst: number("BENCH_BURST", 5000),
  clients: number("BENCH_CLIENTS", 50),
  /** Distinct `data.sessionId`s; a multiple of BENCH_CLIENTS keeps the order check valid. */
  sessions: number("BENCH_SESSIONS", 200),
};
const REDIS_URL = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
const WANTED = (process.env["BENCH_CASES"] ?? CASES.join(",")).split(",").map((name) => name.trim()).filter(Boolean);

const DESCRIPTIONS: Record<CaseName, string> = {
  glue: "express 5 → BullMQ (priority, removeOnComplete) → worker (concurrency 50) → signed undici POST",
  hub: "kefu-hub start, in-process workers (ingest → outbox → fan-out → BullMQ → signed POST, delivery log)",
  "hub+worker": "API-only kefu-hub start + one kefu-hub worker (CPU: both processes)",
  "hub-ordered": `kefu-hub start, subscription with ordering "conversation", ${KNOBS.sessions} sessionIds; throughput only`,
  "hub-shaped": "kefu-hub start, subscription with a filter (two conditions, every event passes) and a 5-path mask (redact, hash, drop)",
};

// Everything a case started, so that Ctrl-C or a failure still stops it and deletes its keys.
const open = new Set<DeliveryTarget>();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the processes under test`);
    void Promise.allSettled([...open].map((target) => target.close())).finally(() => process.exit(130));
  });
}

async function runCase(name: CaseName, receiver: WebhookReceiver, redisPid: number | undefined): Promise<CaseOutcome> {
  receiver.reset();
  const target = await openTarget(name, { redisUrl: REDIS_URL, receiver, sessions: KNOBS.sessions, connections: KNOBS.clients });
  if (typeof target === "string") return { kind: "skipped", reason: target };
  open.add(target);
  try {
    const context: PhaseContext = { poster: target.poster, receiver, next: 0 };
    await warmUp(context, KNOBS.warmUp);
    const latency = name === "hub-ordered" ? undefined : await latencyPhase(context, KNOBS.rate, KNOBS.latencySeconds);
    const throughput = await throughputPhase(context, { count: KNOBS.burst, clients: KNOBS.clients, sessions: KNOBS.sessions, pids: target.pids, redisPid });
    // Only an ordered subscription promises order; for the others it is noise.
    if (name !== "hub-ordered" || KNOBS.sessions % KNOBS.clients !== 0) throughput.outOfOrder = NaN;
    return { kind: "measured", throughput, checks: { ...receiver.checks }, ...(latency ? { latency } : {}) };
  } finally {
    await target.close();
    open.delete(target);
  }
}

function summaryOf(outcome: CaseOutcome): string {
  if (outcome.kind !== "measured") return outcome.reason;
  const { latency, throughput } = outcome;
  const p = latency ? `p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms, ` : "";
  return `${p}${Math.round(throughput.eventsPerSecond)} events/s, ${Math.round(throughput.cpu.tested)} µs CPU/event`;
}

const cases = CASES.filter((name) => WANTED.includes(name));
const unknown = WANTED.filter((name) => !(CASES as readonly string[]).includes(name));
if (unknown.length > 0 || cases.length === 0) throw new Error(`BENCH_CASES: unknown ${unknown.join(", ") || "(none given)"}; cases are ${CASES.join(", ")}`);

const redisPid = await redisPidOf(REDIS_URL);
const receiver = await startWebhookReceiver();
const outcomes: Outcomes = new Map(cases.map((name) => [name, []]));
let failures = 0;
try {
  console.log(`webhook delivery: ${KNOBS.runs} run(s) of ${cases.join(", ")}; warm-up ${KNOBS.warmUp} events, latency at ${KNOBS.rate}/s for ${KNOBS.latencySeconds} s, throughput over ${KNOBS.burst} events from ${KNOBS.clients} clients`);
  for (let run = 0; run < KNOBS.runs; run++) {
    // Alternate the order, so that neither side always runs first (warmer caches, a fresher Redis).
    const order = run % 2 === 0 ? cases : [...cases].reverse();
    for (const name of order) {
      const started = performance.now();
      const earlier = outcomes.get(name)?.find((o) => o.kind === "skipped");
      let outcome: CaseOutcome;
      try {
        // A hub that refused a case once (e.g. ordering) refuses it again: not worth another start.
        outcome = earlier ?? (await runCase(name, receiver, redisPid));
      } catch (error) {
        failures++;
        outcome = { kind: "failed", reason: (error as Error).message };
      }
      (outcomes.get(name) ?? [])[run] = outcome;
      console.log(`run ${run + 1} ${name}: ${summaryOf(outcome)} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
  }
  printCaseTables(outcomes, (name) => DESCRIPTIONS[name]);
  printRatios(outcomes);
  console.log("\nlatency: send → receipt at the receiver (bounds accept → receipt from above); throughput: first send → last receipt; CPU from /proc/<pid>/stat over the throughput phase");
} finally {
  await Promise.allSettled([...open].map((target) => target.close()));
  await receiver.close();
}
process.exitCode = failures === 0 ? 0 : 1;
