// Phase "idle" of bench/live.ts: N idle connections over P processes, each authenticated and
// subscribed to its own session channel; RSS per connection of the hubs against bare ws servers
// holding the same sockets, and the hubs' Redis pub/sub subscriptions.
import { Redis } from "ioredis";
import { rssKibOf } from "./proc-stats.ts";
import { sleep } from "./pacing.ts";
import { bareSocketUrl, hubSocketUrl, knob, type LiveBench } from "./live-bench.ts";
import { startSwarm, type SwarmSocket } from "./live-swarm.ts";
import { formatSpread, printTable, spreadOf } from "./run-stats.ts";
import type { Verdict } from "./verdict.ts";

interface Sample { kibPerConnection: number; opened: number; failed: number; connectMs: number }

/** RSS growth of `pids` (KiB, summed) while `sockets` connect and subscribe; measured after things settle. */
async function rssPerConnection(pids: readonly number[], sockets: readonly SwarmSocket[], workers: number, whileOpen: () => Promise<void> = async () => undefined): Promise<Sample> {
  const swarm = await startSwarm(workers);
  try {
    await sleep(1000);
    const before = pids.reduce((sum, pid) => sum + rssKibOf(pid), 0);
    const { opened, failed, ms } = await swarm.open(sockets);
    await sleep(3000);
    const after = pids.reduce((sum, pid) => sum + rssKibOf(pid), 0);
    await whileOpen();
    return { kibPerConnection: (after - before) / Math.max(opened, 1), opened, failed, connectMs: ms };
  } finally {
    await swarm.close();
  }
}

export async function runIdlePhase(bench: LiveBench): Promise<Verdict[]> {
  const connections = knob("connections", 50_000);
  const processes = knob("processes", 3);
  // A worker holds at most 16,000 clients, under the 20,000 fds a process may open here.
  const workers = Math.max(processes, Math.ceil(connections / 16_000));
  const rows: { hub: Sample; bare: Sample; numsub: number; channelsBefore: number; channels: number }[] = [];
  for (let round = 0; round < bench.rounds; round++) {
    const bare = await bench.startBare(processes);
    let bareSample: Sample;
    try {
      bareSample = await rssPerConnection(bare.pids, Array.from({ length: connections }, (_, i) => ({ url: bareSocketUrl(bare.ports[i % processes] ?? 0), channel: `session:S-idle-${i}` })), workers);
    } finally {
      await bare.stop();
    }
    const hubs = await bench.startHubs(processes);
    const redis = new Redis(bench.redisUrl);
    try {
      const sockets = Array.from({ length: connections }, (_, i) => {
        const sessionId = `S-idle-${i}`;
        const { token } = bench.tokens.issue({ role: "visitor", id: `C-idle-${i}`, sessions: [sessionId], ttlSeconds: 3600 });
        return { url: hubSocketUrl(hubs.ports[i % processes] ?? 0, token), channel: `session:${sessionId}` };
      });
      // The hubs' pub/sub channels (announcements, session changes, rulesets…) with no connection, then with all open.
      const channelsOf = async (): Promise<number> => ((await redis.pubsub("CHANNELS", `${hubs.prefix}:*`)) as string[]).length;
      const channelsBefore = await channelsOf();
      let numsub = NaN;
      let channels = NaN;
      const hubSample = await rssPerConnection(hubs.pids, sockets, workers, async () => {
        [, numsub] = (await redis.pubsub("NUMSUB", `${hubs.prefix}:live:publications`)) as [string, number];
        channels = await channelsOf();
      });
      rows.push({ hub: hubSample, bare: bareSample, numsub, channelsBefore, channels });
      console.log(`idle round ${round + 1}: hub ${hubSample.kibPerConnection.toFixed(2)} KiB/conn (${hubSample.opened} opened, ${hubSample.failed} failed, ${(hubSample.connectMs / 1000).toFixed(1)} s), bare ${bareSample.kibPerConnection.toFixed(2)} KiB/conn (${bareSample.opened} opened)`);
    } finally {
      redis.disconnect();
      await hubs.stop();
    }
  }
  const kb = (key: "hub" | "bare") => spreadOf(rows.map((row) => (row[key].kibPerConnection * 1024) / 1000));
  const ratio = spreadOf(rows.map((row) => row.hub.kibPerConnection / row.bare.kibPerConnection));
  console.log(`\nIdle connections — ${connections.toLocaleString("en-US")} over ${processes} processes, each authenticated and subscribed to its own session channel; RSS growth per connection, ${bench.rounds} rounds`);
  printTable(["server", "KB per connection", "opened (failed) per round", "connect time s"], [
    ["bare ws (Set per channel)", formatSpread(kb("bare")), rows.map((r) => `${r.bare.opened} (${r.bare.failed})`).join(", "), formatSpread(spreadOf(rows.map((r) => r.bare.connectMs / 1000)), 1)],
    ["kefu-hub", formatSpread(kb("hub")), rows.map((r) => `${r.hub.opened} (${r.hub.failed})`).join(", "), formatSpread(spreadOf(rows.map((r) => r.hub.connectMs / 1000)), 1)],
  ]);
  console.log(`Redis pub/sub with ${connections.toLocaleString("en-US")} connections open: PUBSUB NUMSUB of the announcements channel ${rows.map((r) => r.numsub).join(", ")} (${processes} hub processes); pub/sub channels under the hubs' prefix with none open → all open: ${rows.map((r) => `${r.channelsBefore} → ${r.channels}`).join(", ")}`);
  const perConnection = kb("hub");
  return [
    { figure: `RSS per idle connection (${connections} over ${processes})`, value: perConnection, unit: " KB", ratio, baseline: `bare ws ${formatSpread(kb("bare"))} KB`, target: "≤ 1.3 × bare, ≤ 10 KB", pass: ratio.median <= 1.3 && perConnection.median <= 10 },
    { figure: "Redis subscriptions per hub process", value: spreadOf(rows.map((r) => r.numsub / processes)), target: "not one per connection", pass: rows.every((r) => r.numsub === processes && r.channels === r.channelsBefore) },
  ];
}
