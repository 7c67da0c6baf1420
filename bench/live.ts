// The live gateway (issue 12, "Performance"): each figure beside a bare `ws` server measured the
// same way in the same run (bench/servers/bare-ws.ts: one Set per channel, no auth, no Redis, no
// protocol), with the target. Phases (--phases= or BENCH_PHASES, default all):
//   idle       N idle connections over P processes, authenticated and subscribed: RSS per
//              connection; Redis pub/sub subscriptions per process
//   broadcast  one publication to 2,000 subscribers on one process (and 10,000 over 3): time to last
//   latency    visitor → agent on different hub processes at 1,000 messages/s
//   resume     200 publications missed during a 10 s disconnect, replayed on subscribe {since}
//   codec      kefu.v1.json against kefu.v1.proto: bytes and CPU per frame
// Knobs, as --name=value or BENCH_NAME (defaults: the issue's): rounds (3 runs of everything),
// connections (50000), processes (3), broadcast-subscribers (2000), broadcast-rounds (30),
// broadcast-gap-ms (250), broadcast-spread-subscribers (10000, over 3 processes),
// broadcast-spread-rounds (10), broadcast-spread-gap-ms (2000), latency-rate (1000),
// latency-seconds (10), latency-sessions (50), resume-missed (200), resume-away-ms (10000),
// codec-frames (200000). Only 127.0.0.1; stops by itself; every hub uses a `bench-live-…` Redis
// prefix of its own, deleted when it stops.
import { runBroadcastPhase } from "./lib/live-broadcast.ts";
import { liveBenchFromEnv, type LiveBench } from "./lib/live-bench.ts";
import { runCodecPhase } from "./lib/live-codec.ts";
import { runIdlePhase } from "./lib/live-idle.ts";
import { runLatencyPhase } from "./lib/live-latency.ts";
import { runResumePhase } from "./lib/live-resume.ts";
import { printVerdicts, type Verdict } from "./lib/verdict.ts";

const PHASES: Record<string, (bench: LiveBench) => Promise<Verdict[]>> = {
  codec: runCodecPhase,
  resume: runResumePhase,
  latency: runLatencyPhase,
  broadcast: runBroadcastPhase,
  idle: runIdlePhase,
};

const flag = process.argv.find((arg) => arg.startsWith("--phases="))?.slice(9);
const wanted = (flag ?? process.env["BENCH_PHASES"] ?? Object.keys(PHASES).join(",")).split(",").map((name) => name.trim()).filter(Boolean);
const unknown = wanted.filter((name) => !(name in PHASES));
if (unknown.length > 0) throw new Error(`unknown phases ${unknown.join(", ")}; known: ${Object.keys(PHASES).join(", ")}`);

const bench = liveBenchFromEnv();
const verdicts: Verdict[] = [];
for (const name of wanted) {
  const phase = PHASES[name];
  if (phase) verdicts.push(...(await phase(bench)));
}
printVerdicts(`Live gateway — issue 12 targets, median (min–max) of ${bench.rounds} runs; ratios per run against the bare ws server of the same run`, verdicts);
// A MISS is a finding, not a failure of the bench: the exit code stays 0.
