import assert from "node:assert/strict";
import { test } from "node:test";
import { createSharedWait } from "../../src/resilience/shared-wait.ts";

const never = new Promise<never>(() => undefined);

test("a wait answers the promise's value or error when it settles first", async () => {
  const wait = createSharedWait(5_000);
  assert.equal(await wait.within(Promise.resolve(7), () => "late"), 7);
  await assert.rejects(wait.within(Promise.reject(new Error("boom")), () => "late"), /boom/);
});

test("a wait whose promise does not settle ends late, not before its length", async () => {
  const wait = createSharedWait(40);
  const started = performance.now();
  assert.equal(await wait.within(never, () => "late"), "late");
  assert.ok(performance.now() - started >= 39, "ended before its length");
  await assert.rejects(wait.within(never, () => { throw new Error("gave up"); }), /gave up/);
});

test("of many waits on the shared timer, only the ones still unsettled end late", async () => {
  const wait = createSharedWait(30);
  const releases: (() => void)[] = [];
  const waits = Array.from({ length: 500 }, (_, i) =>
    wait.within(i % 100 === 99 ? never : new Promise<string>((resolve) => releases.push(() => resolve(`done ${i}`))), () => `late ${i}`),
  );
  for (const release of releases) release();
  const outcomes = await Promise.all(waits);
  assert.deepEqual(outcomes.filter((o) => o.startsWith("late")), ["late 99", "late 199", "late 299", "late 399", "late 499"]);
  // The timer goes on serving waits begun after the first ones ended.
  assert.equal(await wait.within(never, () => "late again"), "late again");
});
