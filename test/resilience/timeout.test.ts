import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { createDeadline, settleWithin } from "../../src/resilience/timeout.ts";

test("a promise that settles in time is reported as it settled", async () => {
  assert.deepEqual(await settleWithin(Promise.resolve(3), 100), { status: "fulfilled", value: 3 });
  const error = new Error("no");
  assert.deepEqual(await settleWithin(Promise.reject(error), 100), { status: "rejected", reason: error });
});

test("a slow promise times out, keeps running, and its late result is still delivered to others", async () => {
  let late: string | undefined;
  const slow = sleep(120).then(() => "late");
  void slow.then((value) => (late = value));
  const started = Date.now();
  assert.deepEqual(await settleWithin(slow, 30), { status: "timeout" });
  const waited = Date.now() - started;
  assert.ok(waited >= 25 && waited < 110, `waited ${waited} ms`);
  assert.equal(await slow, "late");
  assert.equal(late, "late");
});

test("an already settled promise wins even with no time left", async () => {
  assert.deepEqual(await settleWithin(Promise.resolve("now"), 0), { status: "fulfilled", value: "now" });
  assert.deepEqual(await settleWithin(new Promise(() => undefined), -5), { status: "timeout" });
});

test("a deadline counts down from its creation and never goes below zero", async () => {
  const deadline = createDeadline(60);
  assert.ok(deadline.remainingMs() > 40);
  await sleep(30);
  const remaining = deadline.remainingMs();
  assert.ok(remaining <= 35 && remaining >= 0, `remaining ${remaining}`);
  assert.ok(deadline.elapsedMs() >= 25);
  await sleep(40);
  assert.equal(deadline.remainingMs(), 0);
});
