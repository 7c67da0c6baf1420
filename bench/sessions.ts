// Live session context (issue 11, "Performance"): each figure beside a baseline measured in the
// same run, with the target. Phases (BENCH_PHASES, comma-separated, default all):
//   get      GET /v1/sessions/{id}, 100,000 open sessions, vs bare express and raw node:http (Map)
//   stream   Redis Stream consumption, 90 % filtered and none, vs a hand-written consumer
//   latency  event → change visible in GET and on SSE at 2,000 events/s, vs the stream hop itself
//   heap     memory per open session in the session mirror, vs its JSON size
//   bloom    the customer filter's false positives and lookups at 1 M open sessions, vs Set.has
// Env: BENCH_ROUNDS (3), BENCH_SECONDS (4), BENCH_CONNECTIONS (50), BENCH_SESSIONS (100000),
// BENCH_STREAM_EVENTS (200000), BENCH_STREAM_EVENTS_UNFILTERED (50000), BENCH_STREAM_SESSIONS (1000),
// BENCH_LATENCY_RATE (2000), BENCH_LATENCY_SECONDS (10), BENCH_LATENCY_SESSIONS (100),
// BENCH_LATENCY_POLLERS (2), BENCH_BLOOM_SESSIONS (1000000), BENCH_HUB_NODE_ARGS (hub's Node flags).
import { runGetPhase } from "./lib/sessions-get.ts";
import { runLatencyPhase } from "./lib/sessions-latency.ts";
import { runBloomPhase, runHeapPhase } from "./lib/sessions-memory.ts";
import { runStreamPhase } from "./lib/sessions-stream.ts";
import { sessionsBenchFromEnv, type SessionsBench } from "./lib/sessions-bench.ts";
import { printVerdicts, type Verdict } from "./lib/verdict.ts";

const PHASES: Record<string, (bench: SessionsBench) => Verdict[] | Promise<Verdict[]>> = {
  get: runGetPhase,
  stream: runStreamPhase,
  latency: runLatencyPhase,
  heap: runHeapPhase,
  bloom: runBloomPhase,
};

const wanted = (process.env["BENCH_PHASES"] ?? Object.keys(PHASES).join(",")).split(",").map((name) => name.trim()).filter(Boolean);
const unknown = wanted.filter((name) => !(name in PHASES));
if (unknown.length > 0) throw new Error(`unknown BENCH_PHASES ${unknown.join(", ")}; known: ${Object.keys(PHASES).join(", ")}`);

const bench = sessionsBenchFromEnv();
const verdicts: Verdict[] = [];
for (const name of wanted) {
  const phase = PHASES[name];
  if (phase) verdicts.push(...(await phase(bench)));
}
printVerdicts(`Sessions — issue 11 targets, median (min–max) of ${bench.rounds} rounds; ratios per round against the baseline of the same round`, verdicts);
// A MISS is a finding, not a failure of the bench: the exit code stays 0.
