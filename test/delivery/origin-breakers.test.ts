import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Registry } from "prom-client";
import { createOriginBreakers, type BreakerResult } from "../../src/delivery/breaker-registry.ts";
import { createHttpSender } from "../../src/delivery/http-sender.ts";
import { createSsrfGuard } from "../../src/delivery/ssrf-guard.ts";
import { createBreakerStateMetric } from "../../src/observability/breaker-state-metric.ts";
import type { BreakerState } from "../../src/resilience/breaker-registry.ts";
import { eventually } from "../helpers/test-hub.ts";
import { startReceiver, type Answer, type Receiver } from "./receiver.ts";

const sender = createHttpSender({ guard: createSsrfGuard({ allowCidrs: ["127.0.0.0/8"] }), timeoutMs: 2000 });
const receivers: Receiver[] = [];
after(async () => {
  await sender.close();
  await Promise.all(receivers.map((r) => r.close()));
});

async function receiver(answer: () => Answer): Promise<Receiver> {
  const started = await startReceiver(answer);
  receivers.push(started);
  return started;
}

/** Long enough that no reset timer comes due before the test has shut its breaker down. */
const settings = { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 500 };

function deliverTo(breakers: ReturnType<typeof createOriginBreakers>, to: Receiver): Promise<BreakerResult> {
  return breakers.run(to.url, () => sender.send({ url: new URL(`${to.url}/hook`), headers: {}, body: "{}" }));
}

test("429/5xx count against an origin's breaker and are still returned; once open, nothing is sent until the probe", async () => {
  let status = 503;
  const flaky = await receiver(() => ({ status }));
  const breakers = createOriginBreakers({ settings });
  try {
    for (let i = 0; i < 2; i += 1) {
      const result = await deliverTo(breakers, flaky);
      assert.equal(result.kind === "sent" && result.response.statusCode, 503, "the answer is recorded, not swallowed");
    }
    assert.equal(breakers.state(flaky.url), "open");
    const held = await deliverTo(breakers, flaky);
    assert.equal(held.kind, "open");
    assert.ok(held.kind === "open" && held.retryAtMs > Date.now(), "told to come back later");
    assert.equal(flaky.received.length, 2, "nothing sent while open");

    status = 404; // the receiver's own decision: not a failure
    await eventually(() => breakers.state(flaky.url) === "halfOpen", 3000, "half-open");
    const probe = await deliverTo(breakers, flaky);
    assert.equal(probe.kind === "sent" && probe.response.statusCode, 404);
    assert.equal(breakers.state(flaky.url), "closed");
  } finally {
    breakers.close();
  }
});

test("past maxOrigins the least recently used origin's breaker is forgotten and shut down, and leaves the gauge", async () => {
  const [first, second] = await Promise.all([receiver(() => ({ status: 500 })), receiver(() => ({ status: 429 }))]);
  const healthy = await receiver(() => ({ status: 204 }));
  const metrics = new Registry();
  const seen: [string, BreakerState][] = [];
  const breakers = createOriginBreakers({
    settings,
    maxOrigins: 2,
    metric: createBreakerStateMetric(metrics),
    onStateChange: (origin, state) => seen.push([origin, state]),
  });
  const statesOf = (origin: string): BreakerState[] => seen.filter(([o]) => o === origin).map(([, state]) => state);
  try {
    for (const origin of [first, second]) for (let i = 0; i < 2; i += 1) await deliverTo(breakers, origin);
    assert.deepEqual([breakers.state(first.url), breakers.state(second.url)], ["open", "open"]);
    assert.equal((await deliverTo(breakers, healthy)).kind, "sent");

    assert.deepEqual(
      breakers.list().map(({ origin }) => origin),
      [healthy.url, second.url],
    );
    const text = await metrics.metrics();
    assert.doesNotMatch(text, new RegExp(`origin="${first.url}"`));
    assert.match(text, new RegExp(`origin="${second.url}"\\} 2`));
    // second opened after first, with the same reset timeout: once second is probing, first's
    // timer would have fired too had its breaker not been shut down on eviction.
    await eventually(() => statesOf(second.url).includes("halfOpen"), 3000, "the second origin to probe");
    assert.deepEqual(statesOf(first.url), ["open"]);
    assert.equal(breakers.state(first.url), "closed");
    const again = await deliverTo(breakers, first);
    assert.equal(again.kind === "sent" && again.response.statusCode, 500, "a new breaker for it lets the delivery through");
    assert.equal(first.received.length, 3);
  } finally {
    breakers.close();
  }
});

test("sending to many more origins than the bound keeps the breakers at the bound", async () => {
  const origins = await Promise.all(Array.from({ length: 12 }, () => receiver(() => ({ status: 204 }))));
  const breakers = createOriginBreakers({ settings, maxOrigins: 5 });
  try {
    for (const origin of origins) {
      assert.equal((await deliverTo(breakers, origin)).kind, "sent");
      assert.ok(breakers.list().length <= 5);
    }
    assert.deepEqual(
      breakers.list().map(({ origin }) => origin),
      origins.slice(-5).reverse().map((r) => r.url),
    );
  } finally {
    breakers.close();
  }
});
