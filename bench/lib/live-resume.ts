// Phase "resume" of bench/live.ts: a subscriber disconnects, M publications are made while it is
// away, and after the disconnect it reconnects and subscribes with `since`; the time from the
// reconnect until the last missed publication arrived, and whether all came, in order. Baseline:
// the bare ws server replaying the same number of frames from memory.
import { Redis } from "ioredis";
import { createChannelHistory } from "../../src/live/channel-history.ts";
import { bareSocketUrl, hubSocketUrl, knob, type LiveBench } from "./live-bench.ts";
import { openSocket } from "./live-sockets.ts";
import { sleep } from "./pacing.ts";
import { formatSpread, printTable, spreadOf } from "./run-stats.ts";
import type { Verdict } from "./verdict.ts";

interface Run { connectToLastMs: number; subscribeToLastMs: number; inOrder: boolean; replayed: number }

/** Reconnects and subscribes with `since`; resolves once `missed` publications came. */
async function resume(url: string, protocol: string | undefined, channel: string, since: number, missed: number): Promise<Run> {
  const offsets: number[] = [];
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (done = resolve));
  const started = performance.now();
  const client = await openSocket(url, protocol, (frame) => {
    if (frame["type"] !== "publication") return;
    offsets.push(frame["offset"] as number);
    if (offsets.length === missed) done();
  });
  const subscribedAt = performance.now();
  client.socket.send(JSON.stringify({ type: "subscribe", channel, since }));
  await Promise.race([all, sleep(10_000)]);
  const last = performance.now();
  client.socket.terminate();
  const inOrder = offsets.length === missed && offsets.every((offset, i) => offset === since + 1 + i);
  return { connectToLastMs: last - started, subscribeToLastMs: last - subscribedAt, inOrder, replayed: offsets.length };
}

const message = (i: number): Record<string, unknown> => ({ kind: "message", messageId: `LM-r${i}`, sessionId: "S-resume", sender: { type: "agent", id: "A-1" }, text: `missed message ${i}: your parcel is on its way`, clientMessageId: `r${i}`, sentAt: new Date().toISOString() });

export async function runResumePhase(bench: LiveBench): Promise<Verdict[]> {
  const missed = knob("resume-missed", 200);
  const awayMs = knob("resume-away-ms", 10_000);
  const runs: { hub: Run; bare: Run }[] = [];
  for (let run = 0; run < bench.rounds; run++) {
    const hubs = await bench.startHubs(1);
    const bare = await bench.startBare(1);
    const redis = new Redis(bench.redisUrl);
    try {
      const channel = `session:S-resume-${run}`;
      const hubUrl = hubSocketUrl(hubs.ports[0] ?? 0, bench.tokens.issue({ role: "agent", id: "A-resume", ttlSeconds: 3600 }).token);
      const bareUrl = bareSocketUrl(bare.ports[0] ?? 0);
      // Both subscribe, see the channel empty, and go away.
      for (const [url, protocol] of [[hubUrl, "kefu.v1.json"], [bareUrl, undefined]] as const) {
        const client = await openSocket(url, protocol);
        client.socket.send(JSON.stringify({ type: "subscribe", channel }));
        await client.until((frame) => frame["type"] === "subscribed");
        client.socket.terminate();
      }
      const away = performance.now();
      const history = createChannelHistory({ redis, prefix: hubs.prefix, size: 1000, seconds: 600 });
      const publisher = await openSocket(bareUrl, undefined);
      for (let i = 0; i < missed; i++) {
        await history.publish(channel, JSON.stringify(message(i)));
        publisher.socket.send(JSON.stringify({ type: "publish", channel, data: message(i) }));
      }
      publisher.socket.terminate();
      await sleep(Math.max(0, awayMs - (performance.now() - away)));
      const hub = await resume(hubUrl, "kefu.v1.json", channel, 0, missed);
      const bareRun = await resume(bareUrl, undefined, channel, 0, missed);
      runs.push({ hub, bare: bareRun });
      console.log(`resume run ${run + 1}: hub ${hub.connectToLastMs.toFixed(1)} ms (${hub.replayed} replayed, in order ${hub.inOrder}), bare ${bareRun.connectToLastMs.toFixed(1)} ms (${bareRun.replayed})`);
    } finally {
      redis.disconnect();
      await bare.stop();
      await hubs.stop();
    }
  }
  const of = (key: "hub" | "bare", field: "connectToLastMs" | "subscribeToLastMs") => spreadOf(runs.map((r) => r[key][field]));
  console.log(`\nResume — ${missed} publications missed during a ${(awayMs / 1000).toFixed(1)} s disconnect, then connect + subscribe {since}; ${bench.rounds} runs`);
  printTable(["server", "connect → last ms", "subscribe → last ms", "all, in order"], [
    ["bare ws (from memory)", formatSpread(of("bare", "connectToLastMs")), formatSpread(of("bare", "subscribeToLastMs")), runs.map((r) => r.bare.inOrder).join(", ")],
    ["kefu-hub (Redis stream)", formatSpread(of("hub", "connectToLastMs")), formatSpread(of("hub", "subscribeToLastMs")), runs.map((r) => r.hub.inOrder).join(", ")],
  ]);
  const value = of("hub", "connectToLastMs");
  return [{ figure: `resume: ${missed} missed after ${awayMs / 1000} s away, connect → last`, value, unit: " ms", ratio: spreadOf(runs.map((r) => r.hub.connectToLastMs / r.bare.connectToLastMs)), baseline: `bare ws ${formatSpread(of("bare", "connectToLastMs"))} ms`, target: "< 100 ms, all in order", pass: value.median < 100 && runs.every((r) => r.hub.inOrder) }];
}
