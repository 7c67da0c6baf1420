// Phase "stream" of bench/sessions.ts: consumption of a pre-filled Redis Stream by the hub's
// consumer group, with 90 % of events filtered and with none, against bench/servers/stream-glue.ts.
import type { ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { cpuMsOf } from "./proc-stats.ts";
import { forkServer, freePort, startHub, stop } from "./processes.ts";
import { formatSpread, printTable, spreadOf } from "./run-stats.ts";
import { seedSessions } from "./session-seed.ts";
import { behaviorEventJson, fillStream, groupInfo, parkGroup, releaseGroup, waitAcknowledged, type FeedOptions } from "./stream-feed.ts";
import type { SessionsBench } from "./sessions-bench.ts";
import type { Verdict } from "./verdict.ts";
import { deleteKeysAt } from "../../test/helpers/delete-keys.ts";

interface Consumption {
  events: number;
  perSecond: number;
  /** Events per CPU second of the consumer process. */
  perCpuSecond: number;
}

/** Releases the parked group to the consumer `pid` and times it until everything is acknowledged. */
async function consume(redis: Redis, stream: string, group: string, consumer: ChildProcess, wake: string): Promise<Consumption> {
  const pid = consumer.pid ?? NaN;
  const cpuBefore = cpuMsOf(pid);
  const started = performance.now();
  const last = await releaseGroup(redis, stream, group, wake);
  const ended = await waitAcknowledged(redis, stream, group, last, () => consumer.exitCode === null);
  const cpuMs = cpuMsOf(pid) - cpuBefore;
  const events = (await groupInfo(redis, stream, group))?.entriesRead ?? NaN;
  return { events, perSecond: (events * 1000) / (ended - started), perCpuSecond: (events * 1000) / cpuMs };
}

async function oneRound(bench: SessionsBench, count: number, feed: Omit<FeedOptions, "tag">): Promise<{ glue: Consumption; hub: Consumption }> {
  const prefix = bench.newPrefix();
  const stream = `${prefix}:behavior`;
  const redis = new Redis(bench.redisUrl);
  let glue: ChildProcess | undefined;
  try {
    await seedSessions(redis, prefix, feed.openCustomers, { nowMs: Date.now() });
    await fillStream(redis, stream, count, { ...feed, tag: prefix });
    const wake = behaviorEventJson(count, { ...feed, filteredShare: 1, tag: `${prefix}-wake` });
    await parkGroup(redis, stream, "glue");
    glue = await forkServer(new URL("../servers/stream-glue.ts", import.meta.url), 0, {
      env: { REDIS_URL: bench.redisUrl, GLUE_STREAM: stream, GLUE_GROUP: "glue", GLUE_PREFIX: prefix, GLUE_OPEN_CUSTOMERS: String(feed.openCustomers) },
    });
    const glueResult = await consume(redis, stream, "glue", glue, wake);
    await stop(glue);
    await parkGroup(redis, stream, "kefu-hub-sessions");
    const hub = await startHub({ ...bench.hubEnv, ...(await bench.streamHubEnv()), KEFU_BEHAVIOR_REDIS_STREAM: stream }, await freePort(), { prefix, readyTimeoutMs: 120_000 });
    try {
      return { glue: glueResult, hub: await consume(redis, stream, "kefu-hub-sessions", hub.child, behaviorEventJson(count + 1, { ...feed, filteredShare: 1, tag: `${prefix}-wake` })) };
    } finally {
      await hub.stop();
    }
  } finally {
    if (glue) await stop(glue);
    await deleteKeysAt(bench.redisUrl, prefix);
    redis.disconnect();
  }
}

export async function runStreamPhase(bench: SessionsBench): Promise<Verdict[]> {
  const openCustomers = Number(process.env["BENCH_STREAM_SESSIONS"] ?? 1000);
  const cases = [
    { name: "90 % filtered", filteredShare: 0.9, count: Number(process.env["BENCH_STREAM_EVENTS"] ?? 200_000), target: 50_000 },
    { name: "none filtered", filteredShare: 0, count: Number(process.env["BENCH_STREAM_EVENTS_UNFILTERED"] ?? 50_000), target: 10_000 },
  ];
  const verdicts: Verdict[] = [];
  const rows: string[][] = [];
  for (const c of cases) {
    const runs: { glue: Consumption; hub: Consumption }[] = [];
    for (let round = 0; round < bench.rounds; round++) runs.push(await oneRound(bench, c.count, { openCustomers, filteredShare: c.filteredShare }));
    const figure = (who: "glue" | "hub", key: keyof Consumption): ReturnType<typeof spreadOf> => spreadOf(runs.map((run) => run[who][key]));
    for (const who of ["glue", "hub"] as const) {
      rows.push([`${c.name}: ${who === "hub" ? "kefu-hub" : "hand-written glue"}`, formatSpread(figure(who, "perSecond")), formatSpread(figure(who, "perCpuSecond"))]);
    }
    const perCore = figure("hub", "perCpuSecond");
    verdicts.push({
      figure: `stream, ${c.name}: events/s per core`,
      value: perCore,
      ratio: spreadOf(runs.map((run) => run.hub.perCpuSecond / run.glue.perCpuSecond)),
      baseline: `glue ${formatSpread(figure("glue", "perCpuSecond"))}`,
      target: `≥ ${c.target.toLocaleString("en-US")}/s on one core`,
      pass: perCore.median >= c.target,
    });
  }
  console.log(`\nRedis Stream consumption — ${openCustomers.toLocaleString("en-US")} open sessions, pre-filled stream, batches of 500, ${bench.rounds} rounds; wall time from releasing the group until all is acknowledged, CPU of the consumer process from /proc`);
  printTable(["case", "events/s (wall)", "events per CPU second"], rows);
  return verdicts;
}
