// Many WebSocket clients spread over child processes (bench/lib/live-swarm-worker.ts), so that no
// process passes the fd limit and the clients do not share the bench's event loop.
import { fork, type ChildProcess } from "node:child_process";

export interface SwarmSocket { url: string; channel: string; since?: number }
export interface RoundMark { count: number; firstAt: number; lastAt: number }

export interface Swarm {
  /** Opens and subscribes every socket (split evenly over the workers); how many made it. */
  open(sockets: readonly SwarmSocket[], protocol?: string): Promise<{ opened: number; failed: number; ms: number }>;
  /** Per round: receipts summed over the workers, the first and last receipt time (epoch ms). */
  marks(): Promise<Map<number, RoundMark>>;
  close(): Promise<void>;
}

const WORKER = new URL("./live-swarm-worker.ts", import.meta.url);

function ask<T>(child: ChildProcess, message: object): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once("message", (answer) => resolve(answer as T));
    child.once("exit", (code) => reject(new Error(`a swarm worker exited with ${code}`)));
    child.send(message);
  });
}

/** `workers` client processes; a worker should hold at most ~19,000 sockets (ulimit -n is 20,000 here). */
export async function startSwarm(workers: number): Promise<Swarm> {
  const children = Array.from({ length: workers }, () => fork(WORKER, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] }));
  await Promise.all(children.map((child) => new Promise((resolve) => child.once("message", resolve))));
  const kill = (): void => children.forEach((child) => child.kill("SIGKILL"));
  process.once("exit", kill);
  return {
    async open(sockets, protocol = "kefu.v1.json") {
      const answers = await Promise.all(children.map((child, w) => ask<{ opened: number; failed: number; ms: number }>(child, { cmd: "open", protocol, sockets: sockets.filter((_, i) => i % workers === w), concurrency: 100 })));
      return { opened: answers.reduce((s, a) => s + a.opened, 0), failed: answers.reduce((s, a) => s + a.failed, 0), ms: Math.max(...answers.map((a) => a.ms)) };
    },
    async marks() {
      const answers = await Promise.all(children.map((child) => ask<{ marks: Record<string, RoundMark> }>(child, { cmd: "marks" })));
      const merged = new Map<number, RoundMark>();
      for (const { marks } of answers) {
        for (const [round, mark] of Object.entries(marks)) {
          const seen = merged.get(Number(round));
          merged.set(Number(round), seen ? { count: seen.count + mark.count, firstAt: Math.min(seen.firstAt, mark.firstAt), lastAt: Math.max(seen.lastAt, mark.lastAt) } : { ...mark });
        }
      }
      return merged;
    },
    async close() {
      await Promise.all(children.map((child) => new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(undefined);
        child.once("exit", resolve);
        child.send({ cmd: "close" });
      })));
      process.removeListener("exit", kill);
    },
  };
}
