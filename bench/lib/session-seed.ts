// Open sessions as the hub stores them (src/sessions/session-writer.ts, lua/apply-sessions.lua), built
// deterministically from an index, so that the hub (through Redis) and the baseline servers (in
// their own Map) hold the very same JSON. Behaviour is folded in with the hub's own default fusion.
import type { Redis } from "ioredis";
import { DEFAULT_FUSION } from "../../src/sessions/fusion-document.ts";
import { compileFusion } from "../../src/sessions/fusion.ts";
import { sessionKeys } from "../../src/sessions/session-keys.ts";
import type { BehaviorEvent, StoredSession } from "../../src/sessions/session-types.ts";

const compiled = compileFusion(DEFAULT_FUSION);
if (!compiled.fusion) throw new Error(`the default fusion does not compile: ${JSON.stringify(compiled.errors)}`);
const fusion = compiled.fusion;

export const sessionIdOf = (i: number): string => `bs-${i}`;
export const customerIdOf = (i: number): string => `bc-${i}`;

export interface SeedOptions {
  /** Behaviour events folded into each session (the default fusion keeps the last 10). @defaultValue 10 */
  recentEvents?: number;
  /** Epoch ms the sessions are as of; the same value gives the same JSON. */
  nowMs: number;
}

/** Session `i`: open, a profile, `recentEvents` page views and failed payments folded in. */
export function seededSession(i: number, { recentEvents = 10, nowMs }: SeedOptions): StoredSession & { version: number } {
  const openedAt = new Date(nowMs - 600_000).toISOString();
  const base: StoredSession = {
    windows: {},
    context: {
      sessionId: sessionIdOf(i),
      state: "open",
      channel: i % 3 === 0 ? "web" : "app",
      customer: { id: customerIdOf(i), name: `Customer ${i}`, profile: { tier: i % 5 === 0 ? "gold" : "standard", riskLevel: "low", since: "2021-03-04" } },
      orderId: `SO-${100_000 + i}`,
      risk: { level: "low", reasons: [] },
      behavior: { recent: [], counters: {}, latest: {} },
      routing: null,
      openedAt,
      lastMessageAt: null,
      messageCount: 0,
      closedAt: null,
      version: 0,
      updatedAt: openedAt,
    },
  };
  const events: BehaviorEvent[] = Array.from({ length: recentEvents }, (_, k) => ({
    id: `seed-${i}-${k}`,
    customerId: customerIdOf(i),
    type: k % 4 === 3 ? "payment.failed" : "page.viewed",
    occurredAt: new Date(nowMs - (recentEvents - k) * 20_000).toISOString(),
    data: k % 4 === 3 ? { orderId: `SO-${100_000 + i}`, reason: "card_declined", amount: 129.9 } : { url: `https://shop.example/products/${(i * 7 + k) % 5000}` },
  }));
  const session = fusion.apply(base, events, nowMs);
  // As if each event had been its own change after the open (version 1) and the profile (2).
  const version = 2 + recentEvents;
  session.context = { ...session.context, version, updatedAt: new Date(nowMs).toISOString() };
  return { ...session, version };
}

/**
 * Writes sessions `0 … count-1` into Redis under `prefix` in the hub's format, pipelined, before
 * the hub starts (it loads every open session at start).
 */
export async function seedSessions(redis: Redis, prefix: string, count: number, options: SeedOptions): Promise<void> {
  const keys = sessionKeys(prefix);
  const openedMs = options.nowMs - 600_000;
  for (let first = 0; first < count; first += 1000) {
    const pipeline = redis.pipeline();
    const members: (string | number)[] = [];
    for (let i = first; i < Math.min(count, first + 1000); i++) {
      const { context, windows, version } = seededSession(i, options);
      pipeline.hset(keys.session(context.sessionId), "ctx", JSON.stringify(context), "win", JSON.stringify(windows), "v", version);
      pipeline.zadd(keys.customer(context.customer.id), openedMs, context.sessionId);
      members.push(openedMs, context.sessionId);
    }
    pipeline.zadd(keys.open, ...members);
    pipeline.zadd(keys.all, ...members);
    for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
  }
}
