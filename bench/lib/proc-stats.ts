import { readFileSync } from "node:fs";
import { Redis } from "ioredis";

/** CPU time (ms) a process has used so far, from /proc (Linux); NaN elsewhere or once it is gone. */
export function cpuMsOf(pid: number | undefined): number {
  try {
    // Split after the command name, which may itself hold spaces and parentheses.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    // utime and stime (fields 14 and 15 of proc_pid_stat(5)), in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** Resident set size (KiB) of a process now, from /proc/<pid>/status; NaN elsewhere. */
export function rssKibOf(pid: number | undefined): number {
  try {
    return Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** The pid of the Redis server (from INFO), so that its CPU can be read too: it shares the cores. */
export async function redisPidOf(redisUrl: string): Promise<number | undefined> {
  const redis = new Redis(redisUrl);
  try {
    const pid = Number(/process_id:(\d+)/.exec(await redis.info("server"))?.[1]);
    return Number.isFinite(pid) ? pid : undefined;
  } finally {
    redis.disconnect();
  }
}

export interface CpuSplit {
  /** The process(es) under test. */
  tested: number;
  /** This bench process: load generator and receiver. */
  bench: number;
  redis: number;
}

/** CPU ms so far of the tested processes, this process and Redis. */
export function cpuSnapshot(tested: readonly number[], redisPid: number | undefined): CpuSplit {
  const own = process.cpuUsage();
  return {
    tested: tested.reduce((sum, pid) => sum + cpuMsOf(pid), 0),
    bench: (own.user + own.system) / 1000,
    redis: cpuMsOf(redisPid),
  };
}

/** CPU µs per event between two snapshots. */
export function cpuPerEvent(before: CpuSplit, after: CpuSplit, events: number): CpuSplit {
  const per = (key: keyof CpuSplit): number => ((after[key] - before[key]) * 1000) / events;
  return { tested: per("tested"), bench: per("bench"), redis: per("redis") };
}
