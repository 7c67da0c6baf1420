import assert from "node:assert/strict";
import { test } from "node:test";
import { createDeadline, settleWithin, type Settled } from "../../src/resilience/timeout.ts";

/** Lets promise callbacks run; with mocked timers, setImmediate still turns for real. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test("a promise that settles in time is reported as it settled", async () => {
  assert.deepEqual(await settleWithin(Promise.resolve(3), 100), { status: "fulfilled", value: 3 });
  const error = new Error("no");
  assert.deepEqual(await settleWithin(Promise.reject(error), 100), { status: "rejected", reason: error });
});

test("a slow promise times out at its time, keeps running, and its late result is still delivered to others", async (t) => {
  // Mocked timers: the test says when time passes, so "at 30 ms, not before" is exact.
  t.mock.timers.enable({ apis: ["setTimeout"] });
  let late: string | undefined;
  const slow = new Promise<string>((resolve) => setTimeout(() => resolve("late"), 120));
  void slow.then((value) => (late = value));
  let outcome: Settled<string> | undefined;
  void settleWithin(slow, 30).then((settled) => (outcome = settled));
  t.mock.timers.tick(29);
  await flush();
  assert.equal(outcome, undefined, "still waiting at 29 ms");
  t.mock.timers.tick(1);
  await flush();
  assert.deepEqual(outcome, { status: "timeout" });
  assert.equal(late, undefined, "the promise itself is not settled by the timeout");
  t.mock.timers.tick(90);
  assert.equal(await slow, "late");
  assert.equal(late, "late");
});

test("an already settled promise wins even with no time left", async () => {
  assert.deepEqual(await settleWithin(Promise.resolve("now"), 0), { status: "fulfilled", value: "now" });
  assert.deepEqual(await settleWithin(new Promise(() => undefined), -5), { status: "timeout" });
});

test("a deadline counts down from its creation and never goes below zero", () => {
  let now = 1_000_000;
  const deadline = createDeadline(60, () => now);
  assert.equal(deadline.startedAt, 1_000_000);
  assert.equal(deadline.remainingMs(), 60);
  now += 30;
  assert.deepEqual([deadline.remainingMs(), deadline.elapsedMs()], [30, 30]);
  now += 40;
  assert.deepEqual([deadline.remainingMs(), deadline.elapsedMs()], [0, 70]);
});
