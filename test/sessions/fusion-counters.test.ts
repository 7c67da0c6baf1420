import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_FUSION } from "../../src/sessions/fusion-document.ts";
import { compileFusion, type Fusion } from "../../src/sessions/fusion.ts";
import type { BehaviorEvent, StoredSession } from "../../src/sessions/session-types.ts";

function fusionWith(max: number): Fusion {
  const result = compileFusion({ ...DEFAULT_FUSION, counters: [{ name: "paymentFailed10m", type: "payment.failed", windowSeconds: 600, max }] });
  if (!result.fusion) throw new Error(JSON.stringify(result.errors));
  return result.fusion;
}

function emptySession(): StoredSession {
  const at = new Date(0).toISOString();
  return {
    windows: {},
    context: {
      sessionId: "S-f", state: "open", channel: "web", customer: { id: "C-f", profile: null }, orderId: null,
      risk: { level: "low", reasons: [] }, behavior: { recent: [], counters: {}, latest: {} }, routing: null,
      openedAt: at, lastMessageAt: null, messageCount: 0, closedAt: null, version: 1, updatedAt: at,
    },
  };
}

const NOW = Date.parse("2026-12-02T10:00:00Z");
const failed = (id: string, secondsAgo: number): BehaviorEvent => ({ id, customerId: "C-f", type: "payment.failed", occurredAt: new Date(NOW - secondsAgo * 1000).toISOString(), data: {} });

describe("fusion counters", () => {
  it("keep their times ascending when events arrive out of order, and leave the input session as it was", () => {
    const fusion = fusionWith(1000);
    const first = fusion.apply(emptySession(), [failed("a", 30), failed("b", 10)], NOW);
    const before = JSON.stringify(first);
    const second = fusion.apply(first, [failed("c", 20), failed("d", 40), failed("e", 5)], NOW);
    assert.deepEqual(second.windows["paymentFailed10m"], [40, 30, 20, 10, 5].map((s) => NOW - s * 1000));
    assert.equal(second.context.behavior.counters["paymentFailed10m"], 5);
    assert.equal(JSON.stringify(first), before, "apply copies what it changes");
  });

  it("keep the newest `max` times and forget those that left the window at the next change", () => {
    const fusion = fusionWith(3);
    const session = fusion.apply(emptySession(), [failed("a", 700), failed("b", 50), failed("c", 40), failed("d", 30), failed("e", 20)], NOW);
    assert.deepEqual(session.windows["paymentFailed10m"], [40, 30, 20].map((s) => NOW - s * 1000));
    const later = fusion.refresh(session, NOW + 575_000);
    assert.deepEqual(later.windows["paymentFailed10m"], [20].map((s) => NOW - s * 1000));
    assert.equal(later.context.behavior.counters["paymentFailed10m"], 1);
    assert.equal(session.context.behavior.counters["paymentFailed10m"], 3);
  });
});
