import { burst, paced, percentile } from "./pacing.ts";
import { cpuPerEvent, cpuSnapshot, type CpuSplit } from "./proc-stats.ts";
import type { EventPoster } from "./event-poster.ts";
import type { WebhookReceiver } from "./webhook-receiver.ts";

export interface PhaseContext {
  poster: EventPoster;
  receiver: WebhookReceiver;
  /** Index of the next event to post: each phase posts events no other phase posted. */
  next: number;
}

const ids = (poster: EventPoster, first: number, count: number): string[] => Array.from({ length: count }, (_, k) => poster.id(first + k));

/** Events sent and delivered before measuring (JIT, connections, lazily built parts): steady state is what is compared. */
export async function warmUp(context: PhaseContext, count: number): Promise<void> {
  const first = context.next;
  context.next += count;
  await burst(first, count, 8, (i) => context.poster.post(i));
  await context.receiver.waitForAll(ids(context.poster, first, count), 60_000, "warm-up");
}

export interface LatencyResult {
  p50: number;
  p99: number;
  max: number;
}

/** Paced sending at `rate`/s for `seconds`; latency is receipt − send per event, which bounds accept → receipt from above. */
export async function latencyPhase(context: PhaseContext, rate: number, seconds: number): Promise<LatencyResult> {
  const { poster, receiver } = context;
  const first = context.next;
  const count = Math.round(rate * seconds);
  context.next += count;
  const sentAt = await paced(first, count, rate, (i) => poster.post(i));
  await receiver.waitForAll(ids(poster, first, count), 60_000, "latency phase");
  const latencies = sentAt.map((at, k) => (receiver.arrivals.get(poster.id(first + k)) ?? NaN) - at);
  // BENCH_TAIL=1 prints when the slowest events were sent: clustered offsets mean a stall, not a queue.
  if (process.env["BENCH_TAIL"]) {
    const slowest = latencies.map((ms, k) => ({ ms, at: (sentAt[k] ?? 0) - (sentAt[0] ?? 0) })).sort((a, b) => b.ms - a.ms).slice(0, 40);
    console.log("slowest (latency ms @ send offset ms):", slowest.map((s) => `${s.ms.toFixed(1)}@${s.at.toFixed(0)}`).join(" "));
  }
  const sorted = latencies.sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN };
}

export interface ThroughputResult {
  /** Events delivered per second, first send to last receipt. */
  eventsPerSecond: number;
  /** How fast the 202s came back. */
  acceptedPerSecond: number;
  /** CPU µs per delivered event over the phase. */
  cpu: CpuSplit;
  /** Events of the phase received before an event posted earlier for the same `sessionId`. */
  outOfOrder: number;
}

export interface ThroughputOptions {
  count: number;
  clients: number;
  /** Events carry `sessionId` `i % sessions`. */
  sessions: number;
  pids: readonly number[];
  redisPid: number | undefined;
}

/** `count` events from `clients` closed loops, as fast as they are answered. */
export async function throughputPhase(context: PhaseContext, { count, clients, sessions, pids, redisPid }: ThroughputOptions): Promise<ThroughputResult> {
  const { poster, receiver } = context;
  const first = context.next;
  context.next += count;
  const before = cpuSnapshot(pids, redisPid);
  const started = performance.now();
  await burst(first, count, clients, (i) => poster.post(i));
  const accepted = performance.now();
  await receiver.waitForAll(ids(poster, first, count), 120_000, "throughput phase");
  const after = cpuSnapshot(pids, redisPid);
  let last = 0;
  for (let i = first; i < first + count; i++) last = Math.max(last, receiver.arrivals.get(poster.id(i)) ?? 0);
  return {
    eventsPerSecond: (count * 1000) / (last - started),
    acceptedPerSecond: (count * 1000) / (accepted - started),
    cpu: cpuPerEvent(before, after, count),
    outOfOrder: countOutOfOrder(receiver, poster, first, count, sessions),
  };
}

/**
 * Within each session, events are posted one after another by one client (see `burst`), so an
 * ordered delivery must receive them in ascending index; counts the events that arrived before
 * their session's previous one.
 */
function countOutOfOrder(receiver: WebhookReceiver, poster: EventPoster, first: number, count: number, sessions: number): number {
  const lastRank = new Map<number, number>();
  let out = 0;
  for (let i = first; i < first + count; i++) {
    const rank = receiver.ranks.get(poster.id(i)) ?? NaN;
    const previous = lastRank.get(i % sessions);
    if (previous !== undefined && rank < previous) out++;
    lastRank.set(i % sessions, rank);
  }
  return out;
}
