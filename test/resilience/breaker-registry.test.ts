import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { createBreakerStateMetric } from "../../src/observability/breaker-state-metric.ts";
import { createBreakerRegistry, isBreakerOpenError, type BreakerSettings, type BreakerSnapshot } from "../../src/resilience/breaker-registry.ts";
import { eventually } from "../helpers/test-hub.ts";

const settings: BreakerSettings = { volumeThreshold: 4, errorThresholdPercentage: 50, resetTimeoutMs: 150, rollingWindowMs: 10_000 };
const fail = async (): Promise<never> => {
  throw new Error("payments down");
};

test("one failure does not open the breaker; failures past the volume threshold do", async () => {
  const breakers = createBreakerRegistry({ settings });
  try {
    await assert.rejects(breakers.fire("demo-payments", "getPayments", fail), /payments down/);
    assert.equal(breakers.state("demo-payments", "getPayments"), "closed");
    for (let i = 0; i < 3; i += 1) await assert.rejects(breakers.fire("demo-payments", "getPayments", fail), /payments down/);
    assert.equal(breakers.state("demo-payments", "getPayments"), "open");
  } finally {
    breakers.close();
  }
});

test("while open, calls are rejected at once without running the action", async () => {
  const breakers = createBreakerRegistry({ settings: { ...settings, resetTimeoutMs: 60_000 } });
  try {
    for (let i = 0; i < 4; i += 1) await assert.rejects(breakers.fire("p", "m", fail));
    let ran = 0;
    const started = performance.now();
    const error = await breakers.fire("p", "m", async () => (ran += 1)).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(performance.now() - started < 50, "rejected at once, not after a timeout");
    assert.equal(ran, 0);
    assert.ok(isBreakerOpenError(error));
    assert.equal(error.code, "circuit_open");
    assert.deepEqual([error.plugin, error.method], ["p", "m"]);
  } finally {
    breakers.close();
  }
});

test("after the reset timeout one probe goes through: success closes, failure reopens", async () => {
  const changes: BreakerSnapshot[] = [];
  const breakers = createBreakerRegistry({ settings, onStateChange: (s) => changes.push(s) });
  try {
    for (let i = 0; i < 4; i += 1) await assert.rejects(breakers.fire("p", "m", fail));
    await eventually(() => breakers.state("p", "m") === "halfOpen", 2000, "half-open");
    // The probe fails: open again, and the next probe comes only after another reset timeout.
    await assert.rejects(breakers.fire("p", "m", fail), /payments down/);
    assert.equal(breakers.state("p", "m"), "open");
    await eventually(() => breakers.state("p", "m") === "halfOpen", 2000, "half-open again");
    let release!: () => void;
    const probe = breakers.fire("p", "m", () => new Promise<string>((resolve) => (release = () => resolve("ok"))));
    // Only one probe at a time: a second caller is turned away while the first is out.
    await assert.rejects(breakers.fire("p", "m", async () => "second"), (e: unknown) => isBreakerOpenError(e));
    release();
    assert.equal(await probe, "ok");
    assert.equal(breakers.state("p", "m"), "closed");
    assert.equal(await breakers.fire("p", "m", async () => "flowing"), "flowing");
    assert.deepEqual(
      changes.map((c) => c.state),
      ["open", "halfOpen", "open", "halfOpen", "closed"],
    );
  } finally {
    breakers.close();
  }
});

test("breakers are per plugin method, listed per plugin and exported as kefu_breaker_state", async () => {
  const metrics = new Registry();
  const breakers = createBreakerRegistry({ settings: { ...settings, resetTimeoutMs: 60_000 }, metric: createBreakerStateMetric(metrics) });
  try {
    for (let i = 0; i < 4; i += 1) await assert.rejects(breakers.fire("demo-payments", "getPayments", fail));
    assert.equal(await breakers.fire("demo-orders", "getOrder", async () => null), null);
    assert.equal(breakers.state("demo-orders", "getOrder"), "closed");
    assert.equal(breakers.state("never", "called"), "closed");
    assert.deepEqual(breakers.statesFor("demo-payments"), { getPayments: "open" });
    assert.deepEqual(breakers.statesFor("unknown"), {});
    assert.equal(breakers.list().length, 2);
    const text = await metrics.metrics();
    assert.match(text, /kefu_breaker_state\{plugin="demo-payments",method="getPayments",origin=""\} 2/);
    assert.match(text, /kefu_breaker_state\{plugin="demo-orders",method="getOrder",origin=""\} 0/);
  } finally {
    breakers.close();
    breakers.close();
  }
});

test("a successful action's result and an action's own error pass through unchanged", async () => {
  const breakers = createBreakerRegistry({ settings });
  try {
    assert.deepEqual(await breakers.fire("p", "m", async () => ({ id: 1 })), { id: 1 });
    const own = Object.assign(new Error("x"), { code: "plugin_timeout" });
    await assert.rejects(breakers.fire("p", "m", () => Promise.reject(own)), (e) => e === own);
  } finally {
    breakers.close();
  }
});
