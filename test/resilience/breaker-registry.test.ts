import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { createBreakerStateMetric } from "../../src/observability/breaker-state-metric.ts";
import { isBreakerOpenError } from "../../src/resilience/breaker-errors.ts";
import { createBreakerRegistry, type BreakerSettings, type BreakerState } from "../../src/resilience/breaker-registry.ts";
import { eventually } from "../helpers/test-hub.ts";

const settings: BreakerSettings = { volumeThreshold: 4, errorThresholdPercentage: 50, resetTimeoutMs: 150, rollingWindowMs: 10_000 };
/**
 * For the tests that watch a shut-down breaker stay silent: its reset timer must not come due
 * before the test shuts it down, even on a machine that stalls for a while.
 */
const slow: BreakerSettings = { ...settings, resetTimeoutMs: 500 };
const fail = async (): Promise<never> => {
  throw new Error("payments down");
};

/** Resolves after the current macrotask: a promise settled before it settled "at once", not after any timer. */
const nextMacrotask = (): Promise<"later"> => new Promise((resolve) => setImmediate(() => resolve("later")));

/** Records every transition, per key. */
function transitions(): { log: [string, BreakerState][]; of: (key: string) => BreakerState[]; onStateChange: (key: string, state: BreakerState) => void } {
  const log: [string, BreakerState][] = [];
  return {
    log,
    of: (key) => log.filter(([k]) => k === key).map(([, state]) => state),
    onStateChange: (key, state) => log.push([key, state]),
  };
}

test("one failure does not open the breaker; failures past the volume threshold do", async () => {
  const breakers = createBreakerRegistry<string>({ settings });
  try {
    await assert.rejects(breakers.fire("payments", fail), /payments down/);
    assert.equal(breakers.state("payments"), "closed");
    for (let i = 0; i < 3; i += 1) await assert.rejects(breakers.fire("payments", fail), /payments down/);
    assert.equal(breakers.state("payments"), "open");
  } finally {
    breakers.close();
  }
});

test("while open, calls are rejected at once without running the action, with the time to come back", async () => {
  let now = 1_000_000;
  const breakers = createBreakerRegistry<string>({ settings: { ...settings, resetTimeoutMs: 60_000 }, now: () => now });
  try {
    for (let i = 0; i < 4; i += 1) await assert.rejects(breakers.fire("p", fail));
    now += 5000;
    let ran = 0;
    const rejection = breakers.fire("p", async () => (ran += 1)).then(
      () => undefined,
      (e: unknown) => e,
    );
    const error = await Promise.race([rejection, nextMacrotask()]);
    assert.notEqual(error, "later", "rejected before any timer could fire, not after a timeout");
    assert.equal(ran, 0);
    assert.ok(isBreakerOpenError(error));
    assert.equal(error.code, "circuit_open");
    assert.equal(error.key, "p");
    assert.equal(error.retryAtMs, 1_000_000 + 60_000, "when it opened plus the reset timeout");
  } finally {
    breakers.close();
  }
});

test("after the reset timeout one probe goes through: success closes, failure reopens", async () => {
  const seen = transitions();
  // The registry's clock stands still (opossum's reset timer is real): retryAtMs is exact.
  const now = 1_000_000;
  const breakers = createBreakerRegistry<string>({ settings, onStateChange: seen.onStateChange, now: () => now });
  try {
    for (let i = 0; i < 4; i += 1) await assert.rejects(breakers.fire("p", fail));
    await eventually(() => breakers.state("p") === "halfOpen", 2000, "half-open");
    // The probe fails: open again, and the next probe comes only after another reset timeout.
    await assert.rejects(breakers.fire("p", fail), /payments down/);
    assert.equal(breakers.state("p"), "open");
    await eventually(() => breakers.state("p") === "halfOpen", 2000, "half-open again");
    let release!: () => void;
    const probe = breakers.fire("p", () => new Promise<string>((resolve) => (release = () => resolve("ok"))));
    // Only one probe at a time: a second caller is turned away while the first is out, and told
    // to come back for its verdict soon rather than after a whole reset timeout.
    const turnedAway = await breakers.fire("p", async () => "second").catch((e: unknown) => e);
    assert.ok(isBreakerOpenError(turnedAway));
    assert.equal(turnedAway.retryAtMs, now + 150, "min(1 s, resetTimeoutMs) later");
    release();
    assert.equal(await probe, "ok");
    assert.equal(breakers.state("p"), "closed");
    assert.equal(await breakers.fire("p", async () => "flowing"), "flowing");
    assert.deepEqual(seen.of("p"), ["open", "halfOpen", "open", "halfOpen", "closed"]);
  } finally {
    breakers.close();
  }
});

test("an answer that isFailure condemns counts against the breaker and is still returned", async () => {
  const breakers = createBreakerRegistry<string>({ settings: { ...settings, resetTimeoutMs: 60_000 } });
  const isFailure = (answer: { status: number }): boolean => answer.status >= 500;
  try {
    assert.deepEqual(await breakers.fire("origin", async () => ({ status: 503 }), { isFailure }), { status: 503 });
    assert.deepEqual(await breakers.fire("origin", async () => ({ status: 404 }), { isFailure }), { status: 404 }, "not a failure");
    assert.equal(breakers.state("origin"), "closed");
    for (let i = 0; i < 2; i += 1) await breakers.fire("origin", async () => ({ status: 500 }), { isFailure });
    assert.equal(breakers.state("origin"), "open", "3 failures out of 4");
    await assert.rejects(
      breakers.fire("origin", async () => ({ status: 200 }), { isFailure }),
      (e: unknown) => isBreakerOpenError(e),
    );
  } finally {
    breakers.close();
  }
});

test("a successful action's result and an action's own error pass through unchanged", async () => {
  const breakers = createBreakerRegistry<string>({ settings });
  try {
    assert.deepEqual(await breakers.fire("p", async () => ({ id: 1 })), { id: 1 });
    const own = Object.assign(new Error("x"), { code: "plugin_timeout" });
    await assert.rejects(breakers.fire("p", () => Promise.reject(own)), (e) => e === own);
  } finally {
    breakers.close();
  }
});

test("past maxBreakers the least recently used breaker is forgotten and shut down", async () => {
  const seen = transitions();
  const breakers = createBreakerRegistry<string>({ settings: slow, maxBreakers: 2, onStateChange: seen.onStateChange });
  try {
    for (let i = 0; i < 4; i += 1) await assert.rejects(breakers.fire("a", fail));
    for (let i = 0; i < 4; i += 1) await assert.rejects(breakers.fire("b", fail));
    assert.deepEqual([breakers.state("a"), breakers.state("b")], ["open", "open"]);
    await breakers.fire("c", async () => "c");
    assert.equal(breakers.size, 2);
    assert.deepEqual(
      breakers.list().map(({ key }) => key),
      ["c", "b"],
    );
    // "b" opened after "a" with the same reset timeout, so a's half-open timer was due first:
    // once b is probing, a's timer would have fired had its breaker not been shut down.
    await eventually(() => seen.of("b").includes("halfOpen"), 2000, "b half-open");
    assert.deepEqual(seen.of("a"), ["open"], "the evicted breaker's timer was cleared");
    assert.equal(breakers.state("a"), "closed");
    assert.equal(await breakers.fire("a", async () => "through"), "through", "a new, closed breaker for a");
  } finally {
    breakers.close();
  }
});

test("a breaker idle past idleMs (never less than reset + window) is forgotten and shut down", async () => {
  let now = 1_000_000;
  const seen = transitions();
  const breakers = createBreakerRegistry<string>({ settings: slow, idleMs: 1000, now: () => now, onStateChange: seen.onStateChange });
  try {
    for (let i = 0; i < 4; i += 1) await assert.rejects(breakers.fire("idle", fail));
    await breakers.fire("busy", async () => "ok");
    now += 10_000; // past idleMs, not past resetTimeoutMs + rollingWindowMs (10 500)
    await breakers.fire("busy", async () => "ok");
    assert.equal(breakers.state("idle"), "open", "kept while its window may still matter");
    now += 5000;
    assert.deepEqual(
      breakers.list().map(({ key }) => key),
      ["busy"],
    );
    assert.equal(breakers.state("idle"), "closed");
    assert.equal(await breakers.fire("idle", async () => "through"), "through");
    // Its replacement is closed and says nothing; the old one, open since the start, would have
    // reported half-open after 500 ms had it not been shut down. A later breaker's probe is the barrier.
    for (let i = 0; i < 4; i += 1) await assert.rejects(breakers.fire("later", fail));
    await eventually(() => seen.of("later").includes("halfOpen"), 2000, "later half-open");
    assert.deepEqual(seen.of("idle"), ["open"]);
  } finally {
    breakers.close();
  }
});

test("close shuts every breaker down, empties the gauge, and refuses later calls", async () => {
  const metrics = new Registry();
  const seen = transitions();
  const breakers = createBreakerRegistry<string>({
    settings: slow,
    metric: { gauge: createBreakerStateMetric(metrics), labels: (origin) => ({ origin }) },
    onStateChange: seen.onStateChange,
  });
  for (let i = 0; i < 4; i += 1) await assert.rejects(breakers.fire("http://a.example", fail));
  assert.match(await metrics.metrics(), /kefu_breaker_state\{plugin="",method="",origin="http:\/\/a.example"\} 2/);
  breakers.close();
  breakers.close();
  assert.deepEqual(breakers.list(), []);
  assert.doesNotMatch(await metrics.metrics(), /a\.example/);
  await assert.rejects(breakers.fire("http://a.example", async () => "x"), { name: "BreakerRegistryClosedError" });

  // The barrier: a breaker opened after the closed one, with the same reset timeout.
  const other = createBreakerRegistry<string>({ settings: slow, onStateChange: seen.onStateChange });
  try {
    for (let i = 0; i < 4; i += 1) await assert.rejects(other.fire("barrier", fail));
    await eventually(() => seen.of("barrier").includes("halfOpen"), 2000, "barrier half-open");
    assert.deepEqual(seen.of("http://a.example"), ["open"], "a closed registry's breaker never probes");
  } finally {
    other.close();
  }
});
