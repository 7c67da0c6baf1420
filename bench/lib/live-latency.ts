// Phase "latency" of bench/live.ts: visitors on one hub process send `message` frames at a paced
// rate; agents on another hub process, subscribed to those sessions, receive the publications.
// Latency: the visitor's send → the agent's receipt (both sockets in this process, one clock).
// Baseline: visitor and agent sockets on one bare ws server, the publication relayed by its Set.
import { bareSocketUrl, hubSocketUrl, knob, type LiveBench } from "./live-bench.ts";
import { openSocket, type BenchSocket } from "./live-sockets.ts";
import { paced, percentile, sleep } from "./pacing.ts";
import { cpuMsOf } from "./proc-stats.ts";
import { formatSpread, printTable, spreadOf } from "./run-stats.ts";
import type { Verdict } from "./verdict.ts";

interface Run { p50: number; p99: number; max: number; received: number; sent: number; cpuMicrosPerMessage: number }

/** Paces the messages and reads the latencies; `pids`' CPU over the measured window, per message. */
async function drive(visitors: readonly BenchSocket[], frameOf: (i: number, sentAt: number) => string, received: number[], rate: number, seconds: number, pids: readonly number[]): Promise<Run> {
  const send = (i: number): Promise<void> => {
    visitors[i % visitors.length]?.socket.send(frameOf(i, performance.now()));
    return Promise.resolve();
  };
  await paced(0, rate, rate, send); // one second of warm-up
  await sleep(500);
  received.length = 0;
  const count = rate * seconds;
  const cpuBefore = pids.reduce((sum, pid) => sum + cpuMsOf(pid), 0);
  await paced(rate, count, rate, send);
  await sleep(1000);
  const cpuMicrosPerMessage = ((pids.reduce((sum, pid) => sum + cpuMsOf(pid), 0) - cpuBefore) * 1000) / count;
  const sorted = [...received].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: percentile(sorted, 100), received: received.length, sent: count, cpuMicrosPerMessage };
}

const latencyOf = (received: number[]) => (frame: Record<string, unknown>): void => {
  const text = (frame["data"] as { text?: string } | undefined)?.text;
  if (frame["type"] === "publication" && text?.startsWith("t:")) received.push(performance.now() - Number(text.slice(2)));
};

async function hubRun(bench: LiveBench, sessions: number, rate: number, seconds: number): Promise<Run> {
  const hubs = await bench.startHubs(2);
  const [a, b] = hubs.ports as [number, number];
  const sockets: BenchSocket[] = [];
  try {
    const headers = { authorization: `Bearer ${bench.adminKey}`, "content-type": "application/json" };
    const ids = Array.from({ length: sessions }, (_, i) => `S-lat-${i}`);
    for (const sessionId of ids) {
      const event = { id: `evt-${hubs.prefix}-${sessionId}`, type: "chat.session.opened", occurredAt: new Date().toISOString(), source: "bench", data: { sessionId, channel: "web", customer: { id: `C-${sessionId}`, name: "Bench" } } };
      const response = await fetch(`http://127.0.0.1:${a}/v1/events`, { method: "POST", headers, body: JSON.stringify(event) });
      if (response.status !== 202) throw new Error(`POST /v1/events answered ${response.status}`);
    }
    for (const sessionId of ids) {
      while ((await fetch(`http://127.0.0.1:${a}/v1/sessions/${sessionId}`, { headers })).status !== 200) await sleep(50);
    }
    const received: number[] = [];
    const agent = await openSocket(hubSocketUrl(b, bench.tokens.issue({ role: "agent", id: "A-lat", ttlSeconds: 3600 }).token), "kefu.v1.json", latencyOf(received));
    sockets.push(agent);
    for (const sessionId of ids) {
      agent.socket.send(JSON.stringify({ type: "subscribe", channel: `session:${sessionId}`, ref: sessionId }));
      await agent.until((frame) => frame["type"] === "subscribed" && frame["ref"] === sessionId);
    }
    const visitors = await Promise.all(ids.map((sessionId) => openSocket(hubSocketUrl(a, bench.tokens.issue({ role: "visitor", id: `C-${sessionId}`, sessions: [sessionId], ttlSeconds: 3600 }).token), "kefu.v1.json")));
    sockets.push(...visitors);
    return await drive(visitors, (i, sentAt) => JSON.stringify({ type: "message", sessionId: ids[i % sessions], text: `t:${sentAt}`, clientMessageId: `m${i}` }), received, rate, seconds, hubs.pids);
  } finally {
    for (const { socket } of sockets) socket.terminate();
    await hubs.stop();
  }
}

async function bareRun(bench: LiveBench, sessions: number, rate: number, seconds: number): Promise<Run> {
  const bare = await bench.startBare(1);
  const url = bareSocketUrl(bare.ports[0] ?? 0);
  const sockets: BenchSocket[] = [];
  try {
    const received: number[] = [];
    const agent = await openSocket(url, undefined, latencyOf(received));
    sockets.push(agent);
    for (let i = 0; i < sessions; i++) agent.socket.send(JSON.stringify({ type: "subscribe", channel: `session:S-lat-${i}` }));
    await sleep(200);
    const visitors = await Promise.all(Array.from({ length: sessions }, () => openSocket(url, undefined)));
    sockets.push(...visitors);
    return await drive(visitors, (i, sentAt) => JSON.stringify({ type: "publish", channel: `session:S-lat-${i % sessions}`, data: { kind: "message", text: `t:${sentAt}` } }), received, rate, seconds, bare.pids);
  } finally {
    for (const { socket } of sockets) socket.terminate();
    await bare.stop();
  }
}

export async function runLatencyPhase(bench: LiveBench): Promise<Verdict[]> {
  const rate = knob("latency-rate", 1000);
  const seconds = knob("latency-seconds", 10);
  const sessions = knob("latency-sessions", 50);
  const runs: { hub: Run; bare: Run }[] = [];
  for (let run = 0; run < bench.rounds; run++) {
    const bare = await bareRun(bench, sessions, rate, seconds);
    const hub = await hubRun(bench, sessions, rate, seconds);
    runs.push({ hub, bare });
    console.log(`visitor → agent run ${run + 1}: hub p50 ${hub.p50.toFixed(2)} p99 ${hub.p99.toFixed(2)} ms (${hub.received}/${hub.sent}), bare p50 ${bare.p50.toFixed(2)} p99 ${bare.p99.toFixed(2)} ms (${bare.received}/${bare.sent})`);
  }
  const of = (key: "hub" | "bare", q: "p50" | "p99" | "max") => spreadOf(runs.map((r) => r[key][q]));
  console.log(`\nVisitor → agent — ${rate.toLocaleString("en-US")} messages/s over ${sessions} sessions for ${seconds} s; hub: visitors on one process, the agent on another; bare: one process relays`);
  const cpu = (key: "hub" | "bare"): string => formatSpread(spreadOf(runs.map((r) => r[key].cpuMicrosPerMessage)), 0);
  printTable(["server", "p50 ms", "p99 ms", "max ms", "CPU µs/message", "received/sent"], [
    ["bare ws (relay, one process)", formatSpread(of("bare", "p50")), formatSpread(of("bare", "p99")), formatSpread(of("bare", "max")), cpu("bare"), runs.map((r) => `${r.bare.received}/${r.bare.sent}`).join(", ")],
    ["kefu-hub (2 processes)", formatSpread(of("hub", "p50")), formatSpread(of("hub", "p99")), formatSpread(of("hub", "max")), cpu("hub"), runs.map((r) => `${r.hub.received}/${r.hub.sent}`).join(", ")],
  ]);
  const p99 = of("hub", "p99");
  return [{ figure: `visitor → agent p99 at ${rate}/s, 2 processes`, value: p99, unit: " ms", ratio: spreadOf(runs.map((r) => r.hub.p99 / r.bare.p99)), baseline: `bare relay p99 ${formatSpread(of("bare", "p99"))} ms`, target: "p99 < 20 ms", pass: p99.median < 20 && runs.every((r) => r.hub.received === r.hub.sent) }];
}
