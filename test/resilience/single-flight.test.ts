import assert from "node:assert/strict";
import { test } from "node:test";
import { createSingleFlight } from "../../src/resilience/single-flight.ts";

function gate<T>(): { promise: Promise<T>; open(value: T): void; fail(error: Error): void } {
  let open!: (value: T) => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

test("concurrent runs of one key share one execution", async () => {
  const flight = createSingleFlight<number>();
  const g = gate<number>();
  let calls = 0;
  const work = (): Promise<number> => {
    calls += 1;
    return g.promise;
  };
  const all = Array.from({ length: 50 }, () => flight.run("a", work));
  assert.equal(calls, 1);
  assert.equal(flight.has("a"), true);
  g.open(7);
  assert.deepEqual(await Promise.all(all), Array(50).fill(7));
  assert.equal(flight.has("a"), false);
  assert.equal(flight.size, 0);
});

test("different keys run independently", async () => {
  const flight = createSingleFlight<string>();
  const results = await Promise.all(["x", "y", "x"].map((key) => flight.run(key, async () => key + "!")));
  assert.deepEqual(results, ["x!", "y!", "x!"]);
});

test("a failure is shared by the waiters but not remembered", async () => {
  const flight = createSingleFlight<number>();
  const g = gate<number>();
  const first = flight.run("k", () => g.promise);
  const second = flight.run("k", () => Promise.resolve(1));
  g.fail(new Error("boom"));
  await assert.rejects(first, /boom/);
  await assert.rejects(second, /boom/);
  assert.equal(await flight.run("k", () => Promise.resolve(2)), 2);
});

test("work that throws synchronously rejects and frees the key", async () => {
  const flight = createSingleFlight<number>();
  await assert.rejects(
    flight.run("k", () => {
      throw new Error("sync");
    }),
    /sync/,
  );
  assert.equal(flight.has("k"), false);
});

test("forget lets new work start while the old one runs, and the old one does not evict the new", async () => {
  const flight = createSingleFlight<string>();
  const old = gate<string>();
  const fresh = gate<string>();
  const first = flight.run("k", () => old.promise);
  flight.forget("k");
  const second = flight.run("k", () => fresh.promise);
  old.open("old");
  assert.equal(await first, "old");
  assert.equal(flight.has("k"), true, "the newer run still owns the key");
  assert.equal(flight.run("k", () => Promise.resolve("third")), second);
  fresh.open("new");
  assert.equal(await second, "new");
});
