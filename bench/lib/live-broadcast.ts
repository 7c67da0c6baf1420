// Phase "broadcast" of bench/live.ts: one publication to S subscribers of one channel spread over
// P processes, time from the publish until the last subscriber has it, over many rounds; the hub
// (published through the channel history, as the hub itself does: Lua append + PUBLISH) against
// bare ws servers (the publication sent to each over a WebSocket).
import { Redis } from "ioredis";
import { WebSocket } from "ws";
import { createChannelHistory } from "../../src/live/channel-history.ts";
import { bareSocketUrl, hubSocketUrl, knob, type LiveBench } from "./live-bench.ts";
import { startSwarm, type RoundMark, type SwarmSocket } from "./live-swarm.ts";
import { percentile, sleep } from "./pacing.ts";
import { formatSpread, printTable, spreadOf, type Spread } from "./run-stats.ts";
import type { Verdict } from "./verdict.ts";

const CHANNEL = "session:S-broadcast";
const now = (): number => performance.timeOrigin + performance.now();
const data = (round: number): Record<string, unknown> => ({ kind: "message", round, messageId: `LM-b${round}`, sessionId: "S-broadcast", sender: { type: "agent", id: "A-1" }, text: "Your parcel left the warehouse this morning.", clientMessageId: `b${round}`, sentAt: new Date().toISOString() });

interface Run { p50: number; p99: number; missing: number }

/** Opens the subscribers, publishes `rounds` times `gapMs` apart, and reads each round's last receipt. */
async function measure(sockets: readonly SwarmSocket[], workers: number, rounds: number, gapMs: number, publish: (round: number) => Promise<void> | void): Promise<Run> {
  const swarm = await startSwarm(workers);
  try {
    const { opened } = await swarm.open(sockets);
    if (opened !== sockets.length) throw new Error(`only ${opened} of ${sockets.length} subscribers connected`);
    const sentAt: number[] = [];
    for (let round = 0; round < rounds + 3; round++) {
      sentAt[round] = now();
      await publish(round);
      await sleep(gapMs);
    }
    // Wait for the stragglers (a loaded machine may still be sending), at most 30 s.
    let marks = await swarm.marks();
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; marks = await swarm.marks()) {
      if (Array.from({ length: rounds + 3 }, (_, round) => marks.get(round)?.count ?? 0).every((count) => count >= sockets.length)) break;
      await sleep(500);
    }
    // The first 3 rounds warm up (JIT, buffers) and are left out.
    const times = Array.from({ length: rounds }, (_, k) => k + 3).map((round) => ({ round, mark: marks.get(round) }));
    const missing = times.reduce((sum, { mark }) => sum + (sockets.length - (mark?.count ?? 0)), 0);
    const sorted = times.map(({ round, mark }: { round: number; mark: RoundMark | undefined }) => (mark ? mark.lastAt - (sentAt[round] ?? 0) : NaN)).sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), missing };
  } finally {
    await swarm.close();
  }
}

async function hubRun(bench: LiveBench, subscribers: number, processes: number, rounds: number, gapMs: number): Promise<Run> {
  const hubs = await bench.startHubs(processes);
  const redis = new Redis(bench.redisUrl);
  const history = createChannelHistory({ redis, prefix: hubs.prefix, size: 1000, seconds: 600 });
  try {
    const sockets = Array.from({ length: subscribers }, (_, i) => ({ url: hubSocketUrl(hubs.ports[i % processes] ?? 0, bench.tokens.issue({ role: "agent", id: `A-b${i}`, ttlSeconds: 3600 }).token), channel: CHANNEL }));
    return await measure(sockets, Math.max(2, processes), rounds, gapMs, async (round) => void (await history.publish(CHANNEL, JSON.stringify(data(round)))));
  } finally {
    redis.disconnect();
    await hubs.stop();
  }
}

async function bareRun(bench: LiveBench, subscribers: number, processes: number, rounds: number, gapMs: number): Promise<Run> {
  const bare = await bench.startBare(processes);
  const publishers = await Promise.all(bare.ports.map((port) => new Promise<WebSocket>((resolve, reject) => {
    const socket = new WebSocket(bareSocketUrl(port), { perMessageDeflate: false });
    socket.once("open", () => resolve(socket)).once("error", reject);
  })));
  try {
    const sockets = Array.from({ length: subscribers }, (_, i) => ({ url: bareSocketUrl(bare.ports[i % processes] ?? 0), channel: CHANNEL }));
    return await measure(sockets, Math.max(2, processes), rounds, gapMs, (round) => {
      const frame = JSON.stringify({ type: "publish", channel: CHANNEL, data: data(round) });
      for (const publisher of publishers) publisher.send(frame);
    });
  } finally {
    for (const publisher of publishers) publisher.terminate();
    await bare.stop();
  }
}

export async function runBroadcastPhase(bench: LiveBench): Promise<Verdict[]> {
  const cases = [
    // Rounds far enough apart that one round's sends are done before the next (no queueing across rounds).
    { subscribers: knob("broadcast-subscribers", 2000), processes: 1, rounds: knob("broadcast-rounds", 30), gapMs: knob("broadcast-gap-ms", 250) },
    { subscribers: knob("broadcast-spread-subscribers", 10_000), processes: 3, rounds: knob("broadcast-spread-rounds", 10), gapMs: knob("broadcast-spread-gap-ms", 2000) },
  ];
  const verdicts: Verdict[] = [];
  for (const { subscribers, processes, rounds, gapMs } of cases) {
    const runs: { hub: Run; bare: Run }[] = [];
    for (let run = 0; run < bench.rounds; run++) {
      // Alternate which goes first, so that neither always meets a fresher machine.
      const bare = run % 2 === 0 ? await bareRun(bench, subscribers, processes, rounds, gapMs) : undefined;
      const hub = await hubRun(bench, subscribers, processes, rounds, gapMs);
      const bareLast = bare ?? (await bareRun(bench, subscribers, processes, rounds, gapMs));
      runs.push({ hub, bare: bareLast });
      console.log(`broadcast ${subscribers} over ${processes}, run ${run + 1}: hub p50 ${hub.p50.toFixed(1)} p99 ${hub.p99.toFixed(1)} ms (missing ${hub.missing}), bare p50 ${bareLast.p50.toFixed(1)} p99 ${bareLast.p99.toFixed(1)} ms (missing ${bareLast.missing})`);
    }
    const of = (key: "hub" | "bare", q: "p50" | "p99"): Spread => spreadOf(runs.map((r) => r[key][q]));
    const ratio = spreadOf(runs.map((r) => r.hub.p99 / r.bare.p99));
    console.log(`\nBroadcast — one publication to ${subscribers.toLocaleString("en-US")} subscribers of one channel over ${processes} process(es); time from publish to the last receipt, ${rounds} rounds per run, ${bench.rounds} runs`);
    printTable(["server", "p50 ms", "p99 ms", "missing receipts"], [
      ["bare ws", formatSpread(of("bare", "p50")), formatSpread(of("bare", "p99")), runs.map((r) => r.bare.missing).join(", ")],
      ["kefu-hub", formatSpread(of("hub", "p50")), formatSpread(of("hub", "p99")), runs.map((r) => r.hub.missing).join(", ")],
    ]);
    verdicts.push({
      figure: `broadcast to ${subscribers} over ${processes}: time to last, p99`,
      value: of("hub", "p99"), unit: " ms", ratio, baseline: `bare ws p99 ${formatSpread(of("bare", "p99"))} ms`,
      target: processes === 1 ? "≤ 1.5 × bare" : "(reported)",
      ...(processes === 1 ? { pass: ratio.median <= 1.5 && runs.every((r) => r.hub.missing === 0) } : {}),
    });
  }
  return verdicts;
}
