import { readdirSync, readFileSync } from "node:fs";
import { rssKibOf } from "./proc-stats.ts";

/** The pids whose parent is `pid`, from /proc/<n>/stat (Linux); [] elsewhere. */
export function childrenOf(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const name of entries) {
    try {
      // Field 4 (ppid), after the command name, which may itself hold spaces and parentheses.
      const ppid = Number(readFileSync(`/proc/${name}/stat`, "utf8").split(") ")[1]?.split(" ")[1]);
      if (ppid === pid) children.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/** Proportional set size (KiB) from /proc/<pid>/smaps_rollup: shared pages split among their users; NaN elsewhere. */
export function pssKibOf(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

export interface TreeMemory {
  /** RSS of the process and of its children (the hub and its plugin runner), MiB. */
  hub: number;
  runner: number;
  /** Sum of the RSSs: counts the node binary's shared pages twice, so it bounds from above. */
  total: number;
  /** Sum of the PSSs: each shared page once, what the two together really hold. */
  pss: number;
}

/** The memory of a process and its direct children: what a deployment's memory limit has to hold. */
export function treeMemory(pid: number): TreeMemory {
  const children = childrenOf(pid);
  const hub = rssKibOf(pid) / 1024;
  const runner = children.reduce((sum, child) => sum + (rssKibOf(child) || 0), 0) / 1024;
  const pss = [pid, ...children].reduce((sum, one) => sum + (pssKibOf(one) || 0), 0) / 1024;
  return { hub, runner, total: hub + runner, pss };
}
