import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { Redis } from "ioredis";
import { createInvalidationBus } from "../../src/resilience/invalidation-bus.ts";
import { eventually, TEST_REDIS_URL } from "../helpers/test-hub.ts";

test("an invalidation published by one instance reaches the others, not itself", async () => {
  const channel = `test-${randomUUID().slice(0, 8)}:context:invalidated`;
  const connections = Array.from({ length: 4 }, () => new Redis(TEST_REDIS_URL));
  const [pubA, subA, pubB, subB] = connections as [Redis, Redis, Redis, Redis];
  const seenByA: string[][] = [];
  const seenByB: string[][] = [];
  const errors: unknown[] = [];
  const a = await createInvalidationBus({ publisher: pubA, subscriber: subA, channel, onRemote: (keys) => seenByA.push(keys) });
  const b = await createInvalidationBus({ publisher: pubB, subscriber: subB, channel, onRemote: (keys) => seenByB.push(keys), onError: (e) => errors.push(e) });
  try {
    await a.publish(["order:SO-1", "payments:SO-1"]);
    await a.publish([]);
    await eventually(() => seenByB.length === 1, 2000, "B to hear of it");
    assert.deepEqual(seenByB, [["order:SO-1", "payments:SO-1"]]);
    await pubA.publish(channel, "not json");
    await b.publish(["customer:C-1"]);
    await eventually(() => seenByA.length === 1 && errors.length === 1, 2000, "A to hear of B's, B to report the bad notice");
    assert.deepEqual(seenByA, [["customer:C-1"]]);
    assert.equal(seenByB.length, 1, "B ignores its own notice");
  } finally {
    await a.close();
    await a.close();
    await b.close();
    await Promise.all(connections.map((c) => c.quit()));
  }
});
