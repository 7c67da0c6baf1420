import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import { deliveryKeys } from "../../src/delivery/delivery-keys.ts";
import type { Subscription } from "../../src/delivery/subscription.ts";
import { createSubscriptionStore } from "../../src/delivery/subscription-store.ts";
import { isHubError } from "../../src/http/errors.ts";
import { deleteKeys, startTestHub, TEST_REDIS_URL, type TestHub } from "../helpers/test-hub.ts";
import { FAST, subscribe } from "./fixtures.ts";

/** Concurrent changes of one subscription are applied one after another, or answered 409, never 500 (issue 13 B). */
let first: TestHub;
let second: TestHub;
before(async () => {
  first = await startTestHub(FAST, {}, { keepKeys: true });
  second = await startTestHub(FAST, {}, { prefix: first.prefix, keepKeys: true });
});
after(async () => {
  await first.close();
  await second.close();
  await deleteKeys(first.prefix);
});

test("20 concurrent rotate-secret calls on one hub all succeed, each with its own secret", async () => {
  const { id } = await subscribe(first, "http://127.0.0.1:9/rotate");
  const answers = await Promise.all(Array.from({ length: 20 }, () => first.request(`/v1/subscriptions/${id}/rotate-secret`, { method: "POST" })));
  const bodies = await Promise.all(answers.map(async (response) => ({ status: response.status, body: (await response.json()) as { secret: string } })));
  assert.deepEqual(bodies.map((b) => b.status), Array.from({ length: 20 }, () => 200), JSON.stringify(bodies.filter((b) => b.status !== 200)));
  assert.equal(new Set(bodies.map((b) => b.body.secret)).size, 20);
});

test("20 concurrent PATCHes on one hub all succeed and the last one applied wins", async () => {
  const { id } = await subscribe(first, "http://127.0.0.1:9/patch");
  const statuses = await Promise.all(
    Array.from({ length: 20 }, (_, i) => first.request(`/v1/subscriptions/${id}`, { method: "PATCH", json: { description: `edit ${i}` } }).then((r) => r.status)),
  );
  assert.deepEqual(statuses, Array.from({ length: 20 }, () => 200));
  const view = (await (await first.request(`/v1/subscriptions/${id}`)).json()) as { description: string };
  assert.match(view.description, /^edit \d+$/);
});

test("rotate-secret and PATCH racing across two instances are 200 or 409 with Retry-After, never 5xx", async () => {
  const { id } = await subscribe(first, "http://127.0.0.1:9/race");
  const calls = Array.from({ length: 40 }, (_, i) => {
    const hub = i % 2 === 0 ? first : second;
    return i % 4 < 2
      ? hub.request(`/v1/subscriptions/${id}/rotate-secret`, { method: "POST" })
      : hub.request(`/v1/subscriptions/${id}`, { method: "PATCH", json: { description: `edit ${i}` } });
  });
  const answers = await Promise.all(calls);
  for (const response of answers) {
    const text = await response.text();
    assert.ok(response.status === 200 || response.status === 409, `${response.status}: ${text}`);
    if (response.status === 409) assert.equal(response.headers.get("retry-after"), "1");
  }
});

test("an update that keeps losing to another writer gives up with conflict and Retry-After", async () => {
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const keys = deliveryKeys(prefix);
  try {
    const store = createSubscriptionStore(redis, keys, keys.subscriptionChanges, { maxAttempts: 3, maxBackoffMs: 1, random: () => 0 });
    const now = new Date().toISOString();
    const subscription: Subscription = { id: "sub_contended0000001", url: "http://127.0.0.1:9/x", events: ["*"], enabled: true, headers: {}, secret: "whsec_x", createdAt: now, updatedAt: now };
    await store.save(subscription);
    let attempts = 0;
    // Another writer changes the record between this update's read and its write, every time.
    const rival = new Redis(TEST_REDIS_URL);
    const change = (current: Subscription): Subscription => {
      attempts++;
      return { ...current, description: "mine" };
    };
    const interfering = async (): Promise<unknown> => {
      const original = redis.eval.bind(redis);
      (redis as unknown as { eval: typeof redis.eval }).eval = (async (...args: Parameters<typeof redis.eval>) => {
        await rival.hset(keys.subscriptions, subscription.id, JSON.stringify({ ...subscription, description: `rival ${attempts}` }));
        return original(...args);
      }) as typeof redis.eval;
      try {
        return await store.update(subscription.id, change);
      } finally {
        (redis as unknown as { eval: typeof redis.eval }).eval = original;
        rival.disconnect();
      }
    };
    const error = await interfering().then(() => undefined, (e: unknown) => e);
    assert.ok(isHubError(error), `expected a HubError, got ${String(error)}`);
    assert.equal(error.code, "conflict");
    assert.equal(error.status, 409);
    assert.deepEqual(error.options.headers, { "retry-after": "1" });
    assert.equal(attempts, 3);
    const stored = await store.get(subscription.id);
    assert.match(stored?.description ?? "", /^rival/);
  } finally {
    await deleteKeys(prefix);
    redis.disconnect();
  }
});

test("updates of one subscription in one process take turns: 20 at once succeed with a single attempt each", async () => {
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const keys = deliveryKeys(prefix);
  try {
    const store = createSubscriptionStore(redis, keys, keys.subscriptionChanges, { maxAttempts: 1 });
    const now = new Date().toISOString();
    await store.save({ id: "sub_turns00000000001", url: "http://127.0.0.1:9/x", events: ["*"], enabled: true, headers: {}, secret: "whsec_x", createdAt: now, updatedAt: now });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => store.update("sub_turns00000000001", (current) => ({ ...current, description: `${Number(current.description ?? 0) + 1}` }))),
    );
    assert.deepEqual(results.map((r) => r.status), Array.from({ length: 20 }, () => "fulfilled"));
    assert.equal((await store.get("sub_turns00000000001"))?.description, "20");
  } finally {
    await deleteKeys(prefix);
    redis.disconnect();
  }
});
